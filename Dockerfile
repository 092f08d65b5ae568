# logstorm with kcat and pv, as the image of the tool it replaces had.
# Build: docker build -t logstorm .      Run: docker run --rm logstorm run smoke
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends kcat pv \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/logstorm
COPY pyproject.toml README.md ./
COPY harness ./harness
COPY generators ./generators
COPY sinks ./sinks
COPY profiles ./profiles
RUN pip install --no-cache-dir -e . \
    && useradd --create-home --uid 10001 logstorm \
    && mkdir -p /opt/logstorm/results && chown logstorm /opt/logstorm/results

USER logstorm
ENTRYPOINT ["logstorm"]
CMD ["--help"]
