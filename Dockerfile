# Production image: gunicorn web, Celery worker and beat share it (docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PRODUCTION=true
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core nodejs npm make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml package.json package-lock.json ./
RUN pip install --no-cache-dir "." && npm ci --no-audit --no-fund
COPY . .
RUN mkdir -p var/assets/css && npm run build \
    && SECRET_KEY=build-only DATABASE_URL=postgres://build@localhost/build python manage.py collectstatic --noinput
RUN useradd --create-home app && chown -R app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "commissioning.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
