"""The simulated active-learning loop on a fully labeled data set, and its metrics."""
