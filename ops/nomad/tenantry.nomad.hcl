# Tenantry on Nomad (with Consul for service discovery):
#   nomad job run -var image_prefix=ghcr.io/OWNER/REPO -var tag=SHA ops/nomad/tenantry.nomad.hcl
# Secrets come from Nomad Variables at nomad/jobs/tenantry (docs/deploy.md):
#   owner_database_url, app_db_password, postgres_password, operator_token,
#   paseto_signing_key, paseto_refresh_key (from `tenantry-api keygen`),
#   smtp_url (the relay for verification, reset and invitation emails)
# The API reaches pgbouncer through Consul DNS on its static port 6432.
# PostgreSQL and Redis run outside this job (managed, or their own jobs);
# their addresses are variables.

variable "image_prefix" {
  type    = string
  default = "ghcr.io/tenantry/tenantry"
}

variable "tag" {
  type = string
}

variable "postgres_host" {
  type    = string
  default = "postgres.service.consul"
}

# The console's public origin, for the session cookie's Origin check.
variable "public_origin" {
  type    = string
  default = "https://tenantry.example.com"
}

# The From of verification, reset and invitation emails.
variable "mail_from" {
  type    = string
  default = "Tenantry <no-reply@tenantry.example.com>"
}

# nginx reaches the API on the nodes' addresses: X-Real-IP is trusted from
# these networks only.
variable "trusted_proxies" {
  type    = string
  default = "10.0.0.0/8"
}

variable "redis_url" {
  type    = string
  default = "redis://redis.service.consul:6379"
}

job "tenantry" {
  datacenters = ["dc1"]
  type        = "service"

  update {
    max_parallel      = 1
    canary            = 1
    min_healthy_time  = "10s"
    healthy_deadline  = "2m"
    progress_deadline = "5m"
    auto_revert       = true
    auto_promote      = true
  }

  group "pgbouncer" {
    count = 2

    network {
      port "pg" {
        static = 6432
        to     = 6432
      }
    }

    service {
      name     = "tenantry-pgbouncer"
      port     = "pg"
      provider = "consul"

      check {
        type     = "tcp"
        interval = "10s"
        timeout  = "2s"
      }
    }

    task "pgbouncer" {
      driver = "docker"

      config {
        image = "${var.image_prefix}/pgbouncer:${var.tag}"
        ports = ["pg"]
      }

      env {
        PGBOUNCER_DATABASES = "* = host=${var.postgres_host} port=5432"
        PGBOUNCER_USERS     = "app:APP_DB_PASSWORD postgres:POSTGRES_PASSWORD"
      }

      template {
        destination = "secrets/db.env"
        env         = true
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/tenantry" }}
          APP_DB_PASSWORD={{ .app_db_password }}
          POSTGRES_PASSWORD={{ .postgres_password }}
          {{ end }}
        EOT
      }

      resources {
        cpu    = 200
        memory = 128
      }
    }
  }

  group "api" {
    count = 2

    network {
      port "http" { to = 3000 }
    }

    service {
      name     = "tenantry-api"
      port     = "http"
      provider = "consul"

      # Liveness: the process answers.
      check {
        name     = "liveness"
        type     = "http"
        path     = "/"
        interval = "10s"
        timeout  = "2s"
      }

      # Readiness: database and Redis reachable; 503 while draining.
      check {
        name     = "readiness"
        type     = "http"
        path     = "/api/health"
        interval = "10s"
        timeout  = "3s"
        on_update = "ignore_warnings"
      }
    }

    # Deregister from Consul 2 s before the task gets SIGTERM, so new
    # requests go elsewhere; the task's kill_timeout (30 s) is longer than
    # APP_DRAIN_TIMEOUT_SECS (20 s), so requests in flight finish.
    shutdown_delay = "2s"

    task "migrate" {
      driver = "docker"

      lifecycle {
        hook    = "prestart"
        sidecar = false
      }

      config {
        image = "${var.image_prefix}/api:${var.tag}"
        args  = ["migrate"]
      }

      template {
        destination = "secrets/migrate.env"
        env         = true
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/tenantry" }}
          DATABASE_OWNER_URL={{ .owner_database_url }}
          {{ end }}
        EOT
      }

      resources {
        cpu    = 200
        memory = 128
      }
    }

    task "api" {
      driver       = "docker"
      kill_timeout = "30s"

      config {
        image = "${var.image_prefix}/api:${var.tag}"
        ports = ["http"]
      }

      env {
        APP_ENV                = "production"
        REDIS_URL              = var.redis_url
        APP_TRUSTED_PROXIES    = var.trusted_proxies
        APP_ALLOWED_ORIGINS    = var.public_origin
        APP_PUBLIC_URL         = var.public_origin
        APP_MAIL_FROM          = var.mail_from
        APP_DRAIN_TIMEOUT_SECS = "20"
      }

      template {
        destination = "secrets/api.env"
        env         = true
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/tenantry" }}
          DATABASE_URL=postgres://app:{{ .app_db_password }}@tenantry-pgbouncer.service.consul:6432/appdb
          APP_OPERATOR_TOKEN={{ .operator_token }}
          APP_PASETO_SIGNING_KEY={{ .paseto_signing_key }}
          APP_PASETO_REFRESH_KEY={{ .paseto_refresh_key }}
          APP_SMTP_URL={{ .smtp_url }}
          {{ end }}
        EOT
      }

      resources {
        cpu    = 500
        memory = 256
      }
    }
  }

  group "web" {
    count = 2

    network {
      port "http" {
        static = 80
        to     = 80
      }
    }

    service {
      name     = "tenantry-web"
      port     = "http"
      provider = "consul"

      check {
        type     = "http"
        path     = "/"
        interval = "10s"
        timeout  = "2s"
      }
    }

    task "nginx" {
      driver = "docker"

      config {
        image = "${var.image_prefix}/web:${var.tag}"
        ports = ["http"]
      }

      # Every registered API replica, whatever its checks say: nginx's
      # passive checks skip the dead ones, and a database outage (readiness
      # failing everywhere) must not empty the list. With none registered, a
      # placeholder that is always down keeps nginx starting and answering
      # 503 in the API's error shape. nginx restarts when the set changes,
      # spread over a few seconds.
      template {
        destination = "local/upstreams.env"
        env         = true
        change_mode = "restart"
        splay       = "5s"
        data        = <<-EOT
          API_UPSTREAM_SERVERS="{{ range service "tenantry-api|any" }}server {{ .Address }}:{{ .Port }} max_fails=3 fail_timeout=2s; {{ else }}server 127.0.0.1:9 down; {{ end }}"
        EOT
      }

      resources {
        cpu    = 200
        memory = 128
      }
    }
  }
}
