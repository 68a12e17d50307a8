"""Questions asked of the archive's records: rosters over time, English against Russian, diffs,
what a run changed and the alerts that tell people."""
