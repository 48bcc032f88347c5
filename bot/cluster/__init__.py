"""What lets several replicas of `policybot serve` act as one: the shared index (every replica loads the
version one process built), the build lock, and the Redis-backed rate limit, answer cache and version signal."""
