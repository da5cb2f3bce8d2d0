"""The solver layer: the one HiGHS factory and option set, the one mpiexec launcher, the worker pool."""
