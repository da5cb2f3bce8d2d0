"""The domain: case files, sites, lines, contracts and microgrids; the two-stage day-ahead model
(extensive form and progressive hedging), the SDDP battery policy, sizing with ageing, decomposition
across sites, the ``planner`` command and its report."""
