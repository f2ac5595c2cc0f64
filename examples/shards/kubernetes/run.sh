#!/usr/bin/env bash
# Grade the course on a Kubernetes cluster: the shards as an Indexed Job, then the merge Job.
# Run from this folder with kubectl pointed at the cluster, once the image is pushed and the
# submissions are on the volume (volume.yaml).
set -euo pipefail
cd "$(dirname "$0")"

kubectl apply -f volume.yaml
kubectl delete job cnn-grade-shards cnn-grade-merge --ignore-not-found
kubectl apply -f shards.yaml
# Complete when every index succeeded; Failed when some index ran out of retries (merge then says who).
kubectl wait --for=condition=Complete job/cnn-grade-shards --timeout=4h \
    || echo "some shards failed: the merge lists the students they left ungraded" >&2
kubectl apply -f merge.yaml
kubectl wait --for=condition=Complete job/cnn-grade-merge --timeout=30m
kubectl logs job/cnn-grade-merge
