"""A hil plug-in agent: scores each vehicle's telemetry for anomalies with a robust z-score (median
and median absolute deviation across the fleet) and names the features that drove each score."""

from hil_anomaly_scorer.agent import AnomalyScorerAgent, Score, Settings, features_sql, score_rows, score_vehicles

__all__ = ["AnomalyScorerAgent", "Score", "Settings", "features_sql", "score_rows", "score_vehicles"]
