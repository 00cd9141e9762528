# The PledgeWatch Airflow image: one image for every Airflow component in docker-compose.yml.
# The install steps are the README's (and the Makefile's), so that what CI tests is what runs here;
# only the test extra is left out.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    AIRFLOW_HOME=/opt/airflow \
    PATH=/opt/pledgewatch/.venv/bin:$PATH

RUN useradd --create-home --uid 50000 --gid 0 airflow \
    && mkdir -p /opt/airflow/logs /opt/airflow/auth /opt/pledgewatch-data \
    && chown -R airflow:0 /opt/airflow /opt/pledgewatch-data

WORKDIR /opt/pledgewatch
COPY pyproject.toml constraints.txt README.md ./
COPY models ./models
COPY scrapers ./scrapers
COPY matching ./matching
COPY alerts ./alerts
COPY pipeline ./pipeline
RUN python -m venv .venv \
    && .venv/bin/python -m pip install -U "pip>=24" \
    && .venv/bin/python -m pip install -c constraints.txt -e ".[airflow,analysis]"
COPY dags ./dags
COPY plugins ./plugins

USER airflow
EXPOSE 8080
CMD ["airflow", "version"]
