"""The day plan: allocate order lines to sites, then route each site's vans."""

from engine.plan.pipeline import plan

__all__ = ["plan"]
