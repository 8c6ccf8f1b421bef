"""ImageStatisticsGen: TFX's StatisticsGen, told that the Examples are images."""
