"""The two-step floating catchment area (2SFCA; Luo & Wang 2003) over pairs within reach.

Step 1, each facility j: R_j = capacity_j / (population of the sites within reach of j).
Step 2, each site i: A_i = the sum of R_j over the facilities within reach of i: capacity per
resident, so that the population-weighted mean over all sites is the capacity reached over
the population (what every facility's capacity is shared among).

A facility without a capacity figure cannot be shared out: it is left out and counted. A site
without a population figure adds no demand in step 1 but still gets its A_i in step 2 (what
is within its reach). A facility whose reachable sites hold no population has no ratio (R_j
would divide by zero) and adds nothing.
"""

from __future__ import annotations

import numpy as np


def two_step(populations: list, capacities: list, site, facility) -> tuple[np.ndarray, dict]:
    """(A_i per site, {"facilities", "facilities_without_capacity", "capacity"}) from the
    pairs (site[k], facility[k]) within reach; positions index populations and capacities."""
    population = np.array([0.0 if p is None else float(p) for p in populations])
    capacity = np.array([np.nan if c is None else float(c) for c in capacities])
    reached = np.unique(facility)
    known = ~np.isnan(capacity[facility])
    site, facility = site[known], facility[known]
    demand = np.bincount(facility, weights=population[site], minlength=capacity.size)
    share = np.divide(capacity, demand, out=np.zeros(capacity.size), where=demand > 0)
    ratio = np.bincount(site, weights=share[facility], minlength=population.size)
    with_capacity = np.unique(facility)
    return ratio, {"facilities": int(with_capacity.size),
                   "facilities_without_capacity": int(reached.size - with_capacity.size),
                   "capacity": int(capacity[with_capacity].sum())}
