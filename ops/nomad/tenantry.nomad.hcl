# Tenantry on Nomad (with Consul for service discovery):
#   nomad job run -var image_prefix=ghcr.io/OWNER/REPO -var tag=SHA ops/nomad/tenantry.nomad.hcl
# Secrets come from Nomad Variables at nomad/jobs/tenantry (docs/deploy.md):
#   owner_database_url (the migrate task only), app_db_password,
#   platform_db_password, pgbouncer_admin_password, redis_url (with its
#   password), operator_token, paseto_signing_key, paseto_refresh_key (from
#   `tenantry-api keygen`), smtp_url (the relay for verification, reset and
#   invitation emails)
# The API reaches pgbouncer through Consul DNS on its static port 6432, and
# is reached only by nginx, found through Consul; it takes X-Real-IP only
# from the nginx instances Consul lists.
# PostgreSQL and Redis run outside this job (managed, or their own jobs);
# PostgreSQL's address is a variable, Redis's is part of redis_url.

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

      # The two runtime roles, and the admin console's own user (no
      # PostgreSQL role); not the superuser.
      env {
        PGBOUNCER_DATABASES = "* = host=${var.postgres_host} port=5432"
        PGBOUNCER_USERS     = "app:APP_DB_PASSWORD app_platform:PLATFORM_DB_PASSWORD pgbouncer_admin:PGBOUNCER_ADMIN_PASSWORD"
      }

      template {
        destination = "secrets/db.env"
        env         = true
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/tenantry" }}
          APP_DB_PASSWORD={{ .app_db_password }}
          PLATFORM_DB_PASSWORD={{ .platform_db_password }}
          PGBOUNCER_ADMIN_PASSWORD={{ .pgbouncer_admin_password }}
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

    # A dynamic port, no static one: nginx finds the replicas through Consul.
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
        # The prestart task migrates; the API never holds the owner's URL.
        APP_MIGRATE_ON_START   = "false"
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
          PLATFORM_DATABASE_URL=postgres://app_platform:{{ .platform_db_password }}@tenantry-pgbouncer.service.consul:6432/appdb
          REDIS_URL={{ .redis_url }}
          APP_OPERATOR_TOKEN={{ .operator_token }}
          APP_PASETO_SIGNING_KEY={{ .paseto_signing_key }}
          APP_PASETO_REFRESH_KEY={{ .paseto_refresh_key }}
          APP_SMTP_URL={{ .smtp_url }}
          {{ end }}
        EOT
      }

      # X-Real-IP is taken only from the nginx instances: the addresses
      # Consul lists for tenantry-web, whose tasks use the host's network,
      # so their connections come from exactly those addresses. Anything
      # else that reaches the API's port cannot name a client address. A
      # change (an nginx moving to another node) restarts the task, each
      # allocation after a random delay of up to 10 s.
      template {
        destination = "local/proxies.env"
        env         = true
        change_mode = "restart"
        splay       = "10s"
        data        = <<-EOT
          APP_TRUSTED_PROXIES={{ range service "tenantry-web|any" }}{{ .Address }},{{ end }}
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

    # Port 80 of the node itself (the task uses the host's network).
    network {
      port "http" {
        static = 80
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

      # The host's network: nginx sees clients' addresses as they are, and
      # the API sees nginx's connections coming from the node's address,
      # the one Consul lists (a bridge would show the Docker gateway for
      # an API replica on the same node).
      config {
        image        = "${var.image_prefix}/web:${var.tag}"
        network_mode = "host"
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
