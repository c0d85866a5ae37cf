"""Old import path of `dlsr.train.calibrate` (the iso-level calibration): kept for now, goes away later."""

from dlsr.train.calibrate import CRITERION, DEFAULT_LEVELS_IN_VOXELS, Calibration, LevelScore, calibrate_level

__all__ = ["CRITERION", "DEFAULT_LEVELS_IN_VOXELS", "Calibration", "LevelScore", "calibrate_level"]
