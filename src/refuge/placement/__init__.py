"""Pure algorithms over plain data: no Django import anywhere in this package.

Household fit, ranking, batch assignment (evacuation), simulation and Erlang formulas live
here and are tested with hypothesis against brute-force oracles.
"""
