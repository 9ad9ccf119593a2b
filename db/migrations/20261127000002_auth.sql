-- Sign-in support: the audit log (tenant-scoped, append-only for the
-- runtime role), the platform security log (no tenant can read it), and the
-- narrow cross-tenant functions sign-in needs before a tenant is chosen.

create table audit_log (
    id            uuid primary key default gen_random_uuid(),
    tenant_id     uuid not null default nullif(current_setting('app.tenant_id', true), '')::uuid
                  references tenants (id) on delete cascade,
    actor_user_id uuid references users (id) on delete set null,
    action        text not null,
    target        text not null default '',
    ip            text not null default '',
    user_agent    text not null default '',
    created_at    timestamptz not null default now(),
    constraint audit_log_action_format check (action ~ '^[a-z_.]{1,64}$')
);
create index audit_log_tenant_created_idx on audit_log (tenant_id, created_at desc, id);
alter table audit_log enable row level security;
alter table audit_log force row level security;
create policy audit_log_select on audit_log for select
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy audit_log_insert on audit_log for insert
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
-- Append-only: no UPDATE or DELETE grant (and so no policy for them).
grant select, insert on audit_log to app;

-- Events without a tenant (a failed sign-in for an unknown email, say).
-- Not tenant-scoped, not granted to the runtime role: written through
-- record_security_event only, read by operators only.
create table security_log (
    id          uuid primary key default gen_random_uuid(),
    event       text not null,
    subject     text not null default '',
    ip          text not null default '',
    user_agent  text not null default '',
    created_at  timestamptz not null default now(),
    constraint security_log_event_format check (event ~ '^[a-z_.]{1,64}$')
);
create index security_log_created_idx on security_log (created_at desc);

grant select on users, memberships to app_definer;
grant insert on security_log to app_definer;
grant create on schema public to app_definer;

-- The account behind an email, for sign-in (before any tenant is chosen).
create function auth_find_user(p_email text)
returns table (id uuid, password_hash text, verified boolean)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select u.id, u.password_hash, u.verified_at is not null
    from public.users u
    where u.email = lower(p_email)
$$;
alter function auth_find_user(text) owner to app_definer;
revoke all on function auth_find_user(text) from public;
grant execute on function auth_find_user(text) to app;

-- The tenants a user belongs to, with the role in each.
create function auth_user_tenants(p_user uuid)
returns table (tenant_id uuid, slug text, name text, status text, role text)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select t.id, t.slug, t.name, t.status, m.role
    from public.memberships m
    join public.tenants t on t.id = m.tenant_id
    where m.user_id = p_user
    order by t.name, t.id
$$;
alter function auth_user_tenants(uuid) owner to app_definer;
revoke all on function auth_user_tenants(uuid) from public;
grant execute on function auth_user_tenants(uuid) to app;

-- Who the signed-in user is, for `GET /api/auth/me`.
create function auth_user_profile(p_user uuid)
returns table (email text, display_name text)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select u.email, u.display_name from public.users u where u.id = p_user
$$;
alter function auth_user_profile(uuid) owner to app_definer;
revoke all on function auth_user_profile(uuid) from public;
grant execute on function auth_user_profile(uuid) to app;

create function record_security_event(p_event text, p_subject text, p_ip text, p_user_agent text)
returns void
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
    insert into public.security_log (event, subject, ip, user_agent)
    values (p_event, left(coalesce(p_subject, ''), 320), left(coalesce(p_ip, ''), 64), left(coalesce(p_user_agent, ''), 512))
$$;
alter function record_security_event(text, text, text, text) owner to app_definer;
revoke all on function record_security_event(text, text, text, text) from public;
grant execute on function record_security_event(text, text, text, text) to app;

revoke create on schema public from app_definer;
