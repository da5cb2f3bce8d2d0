"""A generic SDDP engine on HiGHS (after SDDP.jl): policy graphs, pluggable risk
measures, sampling schemes, stopping rules, cut selection, MPI and simulation."""

from .algorithm import IterationRecord, TrainingResult, calculate_bound, cost_to_go, train
from .cuts import read_cuts, write_cuts
from .deterministic_equivalent import deterministic_equivalent
from .expressions import Constraint, LinearExpression, Variable, quicksum
from .parallel import MPIParallel, mpi_available
from .objective_state import ObjectiveState
from .problem import (
    LinearPolicyGraph,
    MarkovianPolicyGraph,
    PolicyGraph,
    State,
    Subproblem,
    SubproblemError,
)
from .progress import Progress
from .risk import AVaR, EAVaR, Expectation, RiskMeasure, WorstCase
from .sampling import Historical, InSample, OutOfSample, SamplingScheme
from .simulate import SimulationResult, simulate, simulate_historical
from .stopping import BoundStalling, IterationLimit, Statistical, StoppingRule, TimeLimit

__all__ = [
    "AVaR", "BoundStalling", "Constraint", "EAVaR", "Expectation", "Historical", "InSample",
    "IterationLimit", "IterationRecord", "LinearExpression", "LinearPolicyGraph",
    "MPIParallel", "MarkovianPolicyGraph", "ObjectiveState", "OutOfSample", "PolicyGraph", "Progress",
    "RiskMeasure", "SamplingScheme", "SimulationResult", "State", "Statistical",
    "StoppingRule", "Subproblem", "SubproblemError", "TimeLimit", "TrainingResult",
    "Variable", "WorstCase", "calculate_bound", "cost_to_go", "deterministic_equivalent", "mpi_available",
    "quicksum", "read_cuts", "simulate", "simulate_historical", "train", "write_cuts",
]
