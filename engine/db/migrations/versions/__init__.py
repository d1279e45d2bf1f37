"""The migrations, one file per revision (``r<revision id>.py``), oldest first."""
