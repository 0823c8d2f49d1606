"""Reads a Prometheus text-format scrape on stdin with prometheus_client's parser (the
one Prometheus's Python client ships) and prints its samples as JSON lines:
{"name": ..., "labels": {...}, "value": ...}. A line the parser refuses fails the run."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        print(json.dumps({"name": sample.name, "labels": sample.labels, "value": sample.value}))
