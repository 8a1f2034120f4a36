"""Runs the aws CLI's own `cloudtrail validate-logs` logic over buckets given as a file.

Usage: python3 awscli_validate.py MANIFEST.json

The manifest holds the objects (bucket, key, base64 body, metadata), the public keys
(fingerprint, base64 DER value as ListPublicKeys sends it) and the command's arguments.
S3 and CloudTrail are replaced by in-memory stand-ins that answer the calls
validation.py makes; everything else is the installed awscli's code. The command's
stdout and stderr pass through; the exit status is the command's.
"""

import base64
import io
import json
import sys

from botocore.exceptions import ClientError
from awscli.customizations.cloudtrail import validation

manifest = json.load(open(sys.argv[1]))
objects = {
    (o["bucket"], o["key"]): (base64.b64decode(o["body"]), o["metadata"])
    for o in manifest["objects"]
}


class Pages:
    def __init__(self, bucket, marker, prefix):
        self.bucket, self.marker, self.prefix = bucket, marker, prefix

    def search(self, expression):
        assert expression == "Contents[*].Key", expression
        for bucket, key in sorted(objects):
            if bucket == self.bucket and key.startswith(self.prefix) and key > self.marker:
                yield key


class Paginator:
    def paginate(self, Bucket, Marker, Prefix):
        return Pages(Bucket, Marker, Prefix)


class S3:
    def get_paginator(self, name):
        assert name == "list_objects", name
        return Paginator()

    def get_object(self, Bucket, Key):
        if (Bucket, Key) not in objects:
            raise ClientError(
                {"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}},
                "GetObject",
            )
        body, metadata = objects[(Bucket, Key)]
        return {"Body": io.BytesIO(body), "Metadata": dict(metadata)}


class S3Provider:
    def get_client(self, bucket):
        return S3()


class CloudTrail:
    def list_public_keys(self, StartTime, EndTime):
        # The awscli parses blobs as the wire's base64 text (scalarparse sets identity).
        return {
            "PublicKeyList": [
                {"Fingerprint": k["fingerprint"], "Value": k["value"]}
                for k in manifest["public_keys"]
            ]
        }


class Args:
    pass


args = Args()
args.trail_arn = manifest["trail_arn"]
args.start_time = manifest["start_time"]
args.end_time = manifest["end_time"]
args.s3_bucket = manifest["bucket"]
args.s3_prefix = manifest["prefix"]
args.account_id = None
args.verbose = manifest["verbose"]

command = validation.CloudTrailValidateLogs(None)
command.handle_args(args)
command.s3_client_provider = S3Provider()
command.cloudtrail_client = CloudTrail()
command.organization_client = None
command._source_region = manifest["region"]
command._call()
invalid = command._invalid_digests + command._invalid_backfill_digests + command._invalid_logs
sys.stdout.flush()
sys.stderr.flush()
sys.exit(1 if invalid else 0)
