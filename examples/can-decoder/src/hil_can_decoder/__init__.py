"""A hil plug-in agent: decodes a workflow's raw CAN frames with a DBC file into signals (engine
speed, coolant temperature, ...) and summarises them per vehicle (min, mean, max)."""

from hil_can_decoder.agent import CanDecoderAgent, Settings, SignalStats, decode_frames

__all__ = ["CanDecoderAgent", "Settings", "SignalStats", "decode_frames"]
