"""The run engine: event-sourced state, the step driver and runner, run control, leases and
workers, and the projections a client sees. The services call it; it calls the agents."""
