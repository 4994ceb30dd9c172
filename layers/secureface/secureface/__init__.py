"""SecureFace: browser face authentication with securely delivered models.

All domain logic lives in this package; Lambda handlers, the local API server and the CLI are thin
adapters over it. Only modules under :mod:`secureface.adapters` import boto3, pymongo or
onnxruntime.
"""

__version__ = "0.1.0"
