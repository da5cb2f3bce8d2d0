"""Generic two-stage machinery for any mpi-sppy model module: extensive form, progressive hedging,
evaluation of a fixed first stage, and the stochastic-programming measures (EV, EEV, VSS, WS, EVPI)."""
