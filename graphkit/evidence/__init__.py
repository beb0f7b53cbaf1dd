"""Evidence for researchers: backtests that learn scores on the past and measure acts in the future."""
