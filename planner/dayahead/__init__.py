"""Day-ahead procurement: the two-stage model of N sites under one contract, its mpi-sppy module, the
solution methods (extensive form, progressive hedging, L-shaped) and the plan pipeline."""
