"""Routing: compile a request, solve it, decode the routes and judge them independently."""

from engine.routing.evaluate import evaluate_routes
from engine.routing.solve import solve_routes

__all__ = ["evaluate_routes", "solve_routes"]
