-- Tenancy core: tenants, global users, memberships, and the first tenant-scoped
-- domain table (projects). Every tenant-scoped table follows the same recipe,
-- documented in docs/database.md: tenant_id uuid not null defaulting from the
-- GUC, RLS enabled and forced, one policy per command comparing with
-- nullif(current_setting('app.tenant_id', true), '')::uuid, an index led by
-- tenant_id, and explicit grants to the runtime role `app`.
--
-- The roles `app` (runtime) and `app_definer` (BYPASSRLS, owns the narrow
-- cross-tenant functions) are created per cluster before migrations run
-- (db::bootstrap); the role running this file owns every table.

-- The runtime role reads the applied version for readiness checks.
grant select on _sqlx_migrations to app;

create table tenants (
    id         uuid primary key default gen_random_uuid(),
    slug       text not null,
    name       text not null,
    status     text not null default 'active',
    plan       text not null default 'free',
    created_at timestamptz not null default now(),
    constraint tenants_slug_key unique (slug),
    constraint tenants_slug_format check (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    constraint tenants_name_length check (char_length(name) between 1 and 200),
    constraint tenants_status_known check (status in ('active', 'suspended')),
    constraint tenants_plan_known check (plan in ('free', 'team', 'enterprise'))
);
-- A tenant sees its own row and nothing else; creating and listing tenants
-- goes through the definer functions below.
alter table tenants enable row level security;
alter table tenants force row level security;
create policy tenants_select on tenants for select
    using (id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select on tenants to app;

-- Users are global: one person may belong to several tenants. The runtime role
-- has no grant on this table; it is reached through definer functions only.
create table users (
    id            uuid primary key default gen_random_uuid(),
    email         text not null,
    password_hash text not null,
    display_name  text not null default '',
    verified_at   timestamptz,
    created_at    timestamptz not null default now(),
    constraint users_email_format check (email = lower(email) and position('@' in email) > 1)
);
create unique index users_email_key on users (email);

create table memberships (
    tenant_id  uuid not null default nullif(current_setting('app.tenant_id', true), '')::uuid
               references tenants (id) on delete cascade,
    user_id    uuid not null references users (id) on delete cascade,
    role       text not null,
    created_at timestamptz not null default now(),
    primary key (tenant_id, user_id),
    constraint memberships_role_known check (role in ('admin', 'user', 'viewer'))
);
create index memberships_user_idx on memberships (user_id);
alter table memberships enable row level security;
alter table memberships force row level security;
create policy memberships_select on memberships for select
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy memberships_insert on memberships for insert
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy memberships_update on memberships for update
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy memberships_delete on memberships for delete
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, update, delete on memberships to app;

create table projects (
    id          uuid primary key default gen_random_uuid(),
    tenant_id   uuid not null default nullif(current_setting('app.tenant_id', true), '')::uuid
                references tenants (id) on delete cascade,
    name        text not null,
    description text not null default '',
    owner_id    uuid references users (id) on delete set null,
    created_at  timestamptz not null default now(),
    constraint projects_name_length check (char_length(name) between 1 and 200),
    constraint projects_tenant_name_key unique (tenant_id, name)
);
create index projects_tenant_created_idx on projects (tenant_id, created_at, id);
alter table projects enable row level security;
alter table projects force row level security;
create policy projects_select on projects for select
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy projects_insert on projects for insert
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy projects_update on projects for update
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy projects_delete on projects for delete
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, update, delete on projects to app;

-- Provisioning crosses tenants, so it runs through SECURITY DEFINER functions
-- owned by app_definer (BYPASSRLS and nothing else), each with one purpose and
-- a pinned search_path. The runtime role may execute them; the API exposes
-- them to platform operators only.
grant select, insert, update on tenants to app_definer;
-- Changing a function's owner needs CREATE on its schema for the new owner;
-- app_definer holds it only for the length of this migration.
grant create on schema public to app_definer;

create function provision_tenant(p_slug text, p_name text, p_plan text)
returns tenants
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    created public.tenants;
begin
    if p_slug is null or p_name is null or p_plan is null then
        raise exception 'provision_tenant: arguments must not be null'
            using errcode = '22004';
    end if;
    insert into public.tenants (slug, name, plan)
    values (p_slug, p_name, p_plan)
    returning * into created;
    return created;
end;
$$;
alter function provision_tenant(text, text, text) owner to app_definer;
revoke all on function provision_tenant(text, text, text) from public;
grant execute on function provision_tenant(text, text, text) to app;

create function list_tenants(p_after uuid, p_limit integer)
returns setof tenants
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select *
    from public.tenants
    where p_after is null or id > p_after
    order by id
    limit least(greatest(coalesce(p_limit, 50), 1), 200);
$$;
alter function list_tenants(uuid, integer) owner to app_definer;
revoke all on function list_tenants(uuid, integer) from public;
grant execute on function list_tenants(uuid, integer) to app;

revoke create on schema public from app_definer;
