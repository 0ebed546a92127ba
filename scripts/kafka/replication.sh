# shellcheck shell=bash
# How many copies of each partition a cluster of N brokers keeps, and how many
# must have a write before it is acknowledged. The same rule as
# streams/replication.py (the Python side, which creates the platform's topics
# and configures its producers); this copy sets the brokers' defaults and
# their internal topics (consumer offsets, transactions). Source it.

# kafka_replicas BROKERS: min(BROKERS, 3).
kafka_replicas() { echo $(($1 < 3 ? $1 : 3)); }

# kafka_min_insync REPLICAS: 1 below three replicas, else a majority (3 -> 2),
# so a write survives the loss of any one broker and one broker may be down.
kafka_min_insync() { echo $(($1 < 3 ? 1 : $1 / 2 + 1)); }
