#!/usr/bin/env bash
# Debian's Python with Celery for the interop tests (a Python client against our worker, our client against a
# Python worker). Debian's interpreter is /usr/bin/python3; another python3 on PATH may not see Debian's packages.
#
#   source scripts/test-servers/celery.sh
#   celery_prepare     # installs python3-celery, python3-kombu, boto3 and pycurl for kombu's SQS transport, and
#                      # msgpack, yaml and brotli for the serializer tests, cryptography for the auth
#                      # serializer (celery.security), if missing;
#                      # checks the imports, exports CQ_TEST_PYTHON

CELERY_TEST_PYTHON=${CELERY_TEST_PYTHON:-/usr/bin/python3}

celery_prepare() {
  if ! "$CELERY_TEST_PYTHON" -c 'import celery, kombu, boto3, pycurl, msgpack, yaml, brotli, cryptography, celery.security' >/dev/null 2>&1; then
    echo "installing python3-celery, python3-kombu, python3-boto3, python3-pycurl, python3-msgpack, python3-yaml, python3-brotli and python3-cryptography" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        python3-celery python3-kombu python3-boto3 python3-pycurl python3-msgpack python3-yaml python3-brotli python3-cryptography >/dev/null; } \
      || { echo "could not install python3-celery and its SQS packages" >&2; return 1; }
  fi
  local version
  version=$("$CELERY_TEST_PYTHON" -c 'import celery; print(celery.__version__)') \
    || { echo "$CELERY_TEST_PYTHON cannot import celery" >&2; return 1; }
  export CQ_TEST_PYTHON=$CELERY_TEST_PYTHON
  echo "Python Celery $version at $CQ_TEST_PYTHON" >&2
}
