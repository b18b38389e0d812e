"""A real Kubernetes control plane for tests and the demo: etcd, kube-apiserver and
kube-controller-manager built from their Go modules (``build.sh``) and run on loopback,
envtest-style (``plane.py``). Never imported by product code.
"""
