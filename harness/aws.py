"""What the S3 and Kinesis sinks and the S3 source share: where to connect,
boto3 clients built from the standard credential chain, and AWS errors
turned into one readable line.

boto3 and botocore are imported inside the functions, never at module level:
`stream --help` loads every sink module, and none of that should pay for
boto3 unless an AWS sink or source is actually used.
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from harness.errors import UserError
from harness.extras import require

# The supervisor's start-up check must answer within seconds, so it gets
# short timeouts and a single attempt; delivery gets patient ones.
CHECK_TIMEOUTS = (2.0, 3.0)  # connect, read (seconds)
DELIVERY_TIMEOUTS = (5.0, 60.0)
# How long one send of the S3 or Kinesis sink may block (its `longest_send`,
# read by the supervisor's hang check): a send is several calls, each bounded
# by the timeouts above and retried, so a slow but working upload can take
# minutes; botocore's timeouts, not the hang check, bound it.
LONGEST_SEND = 3600.0

NOT_FOUND = {"404", "NoSuchBucket", "NotFound", "ResourceNotFoundException"}
DENIED = {"403", "AccessDenied", "AccessDeniedException", "AllAccessDisabled"}
BAD_CREDENTIALS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "UnrecognizedClientException",
                   "InvalidClientTokenId", "InvalidSignatureException", "IncompleteSignature",
                   "ExpiredToken", "ExpiredTokenException", "AuthFailure"}
THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "Throttling",
             "LimitExceededException", "RequestLimitExceeded", "SlowDown", "InternalFailure",
             "InternalError", "ServiceUnavailable", "KMSThrottlingException"}

NO_CREDENTIALS = ("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                  "or AWS_PROFILE, or configure ~/.aws/credentials")
NO_REGION = "no AWS region: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION, or region in ~/.aws/config)"


@dataclass(frozen=True)
class Target:
    """Where an AWS service is. No credentials here: every process resolves
    them itself through the standard chain, so they never travel in options
    (or show up in a repr, a log or a result file)."""

    endpoint_url: str | None = None  # None: AWS_ENDPOINT_URL if set, else AWS itself
    region: str | None = None  # None: AWS_REGION / AWS_DEFAULT_REGION / the profile


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """--endpoint-url and --region, unless the command already has them: two
    AWS sinks in one run, or `stream`'s own --endpoint-url for s3:// inputs,
    share one value (one AWS account, or one local S3-compatible server)."""
    flags = (("--endpoint-url", "an S3/Kinesis-compatible endpoint URL (MinIO, Ceph, a local test server); "
                                "default: AWS_ENDPOINT_URL, else AWS"),
             ("--region", "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile)"))
    for flag, text in flags:
        try:
            parser.add_argument(flag, default=None, help=text)
        except argparse.ArgumentError:
            pass  # already there: see above


def target(args: argparse.Namespace) -> Target:
    return Target(endpoint_url=args.endpoint_url or None, region=args.region or None)


def client(service: str, where: Target, *, check: bool = False, attempts: int = 3) -> Any:
    """A boto3 client for `service`. `check` makes it fail fast (one attempt,
    short timeouts) for start-up checks. Raises UserError when there is no
    region (for services that need one) or no credentials at all."""
    require("aws", f"AWS ({service})")
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, NoRegionError

    connect, read = CHECK_TIMEOUTS if check else DELIVERY_TIMEOUTS
    config = Config(connect_timeout=connect, read_timeout=read,
                    retries={"mode": "standard", "total_max_attempts": 1 if check else attempts})
    try:
        session = boto3.session.Session(region_name=where.region)
        if session.region_name == "":  # AWS_REGION= set but empty: botocore would build "kinesis..amazonaws.com"
            raise NoRegionError()
        made = session.client(service, endpoint_url=where.endpoint_url, config=config)
        credentials = session.get_credentials()
    except NoRegionError:
        raise UserError(NO_REGION) from None
    except (BotoCoreError, ValueError) as error:
        # A missing profile, half-set credentials, a malformed endpoint URL (ValueError):
        # botocore's message names the culprit and holds no secret.
        raise UserError(f"AWS configuration: {error}") from None
    # Checked here rather than on the first call, where botocore's message would be
    # "Unable to locate credentials" deep inside a traceback.
    if credentials is None:
        raise UserError(NO_CREDENTIALS)
    return made


def errors() -> tuple[type[Exception], ...]:
    """What a boto3 call raises when the service or the network says no."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def error_code(error: Exception) -> str:
    """A short reason for failure counts: the AWS error code, or the kind of
    network failure ("EndpointConnectionError", "ReadTimeoutError")."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or type(error).__name__)
    return type(error).__name__


def transient(error: Exception) -> bool:
    """Might a later try succeed? Throttling, server faults and broken
    connections may pass; a missing stream or a refused credential will not."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as NetworkError

    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(error) in THROTTLED or status >= 500
    return isinstance(error, (NetworkError, HTTPClientError))


def explain(error: Exception, what: str) -> str:
    """One line about `error`, naming `what` ("S3 bucket 'logs'"). Built from
    the error code, never from request details, so no credential leaks."""
    from botocore.exceptions import ClientError, NoCredentialsError
    from botocore.exceptions import ConnectionError as NetworkError

    code = error_code(error)
    if isinstance(error, NoCredentialsError):
        return NO_CREDENTIALS
    if isinstance(error, NetworkError):
        return f"cannot reach {what}: {error}"
    if not isinstance(error, ClientError):
        return f"{what}: {code}"
    if code in NOT_FOUND:
        return f"{what} does not exist"
    if code in BAD_CREDENTIALS:
        return f"AWS rejected the credentials while checking {what} ({code})"
    if code in DENIED:
        return f"access to {what} denied ({code}): check the credentials and their permissions"
    message = error.response.get("Error", {}).get("Message", "")
    return f"{what}: {code}" + (f": {message}" if message else "")


@contextmanager
def user_errors(what: str) -> Iterator[None]:
    """Turn a failed AWS call inside the block into a UserError about `what`."""
    try:
        yield
    except errors() as error:
        raise UserError(explain(error, what)) from None
