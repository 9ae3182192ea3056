# One image for web, worker, beat and flower; docker-compose.yml picks the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN useradd --create-home --uid 1000 reminders
COPY pyproject.toml README.md ./
COPY reminders ./reminders
COPY templates ./templates
COPY config ./config
COPY worker.py ./
RUN pip install --no-cache-dir -e '.[ops]'
USER reminders
# Production by default: the app refuses to start without its own secret key, field key,
# PostgreSQL, Twilio and SMTP (reminders/settings.py), never on the public development key.
ENV REMINDERS_ENVIRONMENT=production
EXPOSE 8000
# Client addresses are taken from X-Forwarded-For only when the TLS proxy at
# FORWARDED_ALLOW_IPS sent it (docs/security.md, "Behind a proxy"); default: none trusted.
ENV FORWARDED_ALLOW_IPS=127.0.0.1
CMD ["uvicorn", "--factory", "reminders.entrypoints.web.app:create_app", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
