# logstorm with kcat and pv, as the image of the tool it replaces had.
# Build: docker build -t logstorm .      Run: docker run --rm logstorm run smoke
#
# Two stages: the first builds the wheel (and so holds the build tools), the
# second installs only that wheel, not an editable checkout, so the image runs
# what a user of the package runs.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md LICENSE ./
COPY harness ./harness
COPY generators ./generators
COPY sinks ./sinks
COPY profiles ./profiles
COPY results/__init__.py results/schema.json ./results/
RUN pip install --no-cache-dir build && python -m build --wheel -o /dist .

FROM python:3.11-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends kcat pv \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir "$(ls /tmp/logstorm-*.whl)[aws]" \
    && rm /tmp/logstorm-*.whl \
    && useradd --create-home --uid 10001 logstorm
USER logstorm
WORKDIR /home/logstorm
ENTRYPOINT ["logstorm"]
CMD ["--help"]
