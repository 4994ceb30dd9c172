"""The local stack: moto (S3 + KMS), a MongoDB wire server, the local API and the frontend.

Development tooling only; never shipped in a Lambda layer. ``python -m devstack up`` (or
``make dev``) starts everything on 127.0.0.1 and Ctrl-C stops every process it started, by pid.
"""
