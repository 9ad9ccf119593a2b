-- API keys for integrators: per tenant, shown once, stored as a SHA-256 of
-- the whole key (the keys are 256 random bits, so a plain hash suffices),
-- found by their public prefix, with a role, an optional expiry and the
-- time of last use.

create table api_keys (
    id           uuid primary key default gen_random_uuid(),
    tenant_id    uuid not null default nullif(current_setting('app.tenant_id', true), '')::uuid
                 references tenants (id) on delete cascade,
    name         text not null,
    prefix       text not null,
    secret_hash  text not null,
    role         text not null,
    created_by   uuid references users (id) on delete set null,
    expires_at   timestamptz,
    last_used_at timestamptz,
    created_at   timestamptz not null default now(),
    constraint api_keys_name_length check (char_length(name) between 1 and 100),
    constraint api_keys_role_known check (role in ('admin', 'user', 'viewer')),
    constraint api_keys_prefix_format check (prefix ~ '^[0-9a-f]{12}$'),
    constraint api_keys_tenant_name_key unique (tenant_id, name)
);
-- The prefix is random and found before the tenant is known (sign-in by
-- key), so it is unique across tenants.
create unique index api_keys_prefix_key on api_keys (prefix);
create index api_keys_tenant_created_idx on api_keys (tenant_id, created_at);
alter table api_keys enable row level security;
alter table api_keys force row level security;
create policy api_keys_select on api_keys for select
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy api_keys_insert on api_keys for insert
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy api_keys_update on api_keys for update
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy api_keys_delete on api_keys for delete
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, update, delete on api_keys to app;

grant select on api_keys to app_definer;
grant create on schema public to app_definer;

-- Finds a key by its prefix, across tenants, for authenticating a request.
create function api_key_lookup(p_prefix text)
returns table (id uuid, tenant_id uuid, secret_hash text, role text, expires_at timestamptz, tenant_status text)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select k.id, k.tenant_id, k.secret_hash, k.role, k.expires_at, t.status
    from public.api_keys k
    join public.tenants t on t.id = k.tenant_id
    where k.prefix = p_prefix
$$;
alter function api_key_lookup(text) owner to app_definer;
revoke all on function api_key_lookup(text) from public;
grant execute on function api_key_lookup(text) to app;
grant select on tenants to app_definer;

revoke create on schema public from app_definer;
