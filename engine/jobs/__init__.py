"""Async jobs: a SQL store of jobs and a runner that solves them in worker processes."""

from __future__ import annotations

from engine.jobs.kinds import KINDS, register
from engine.jobs.runner import JobRunner
from engine.jobs.store import JobRecord, JobStore

__all__ = ["KINDS", "JobRecord", "JobRunner", "JobStore", "register"]
