-- Projects get their full API (status, updates with a version for ETags),
-- files attached to projects live in object storage with their rows here,
-- each tenant's stored bytes are counted, and POSTs that create something
-- remember their answer under an idempotency key. Every new table follows
-- the tenant-table recipe of docs/database.md.

alter table projects
    add column status text not null default 'active',
    add column updated_at timestamptz not null default now(),
    -- Bumped by every update; the API's ETag.
    add column version bigint not null default 1,
    add constraint projects_status_known check (status in ('active', 'archived')),
    add constraint projects_description_length check (char_length(description) <= 2000),
    -- Files reference (tenant_id, id), so a file cannot point at another
    -- tenant's project even through a forged id.
    add constraint projects_tenant_id_key unique (tenant_id, id);
create index projects_tenant_owner_idx on projects (tenant_id, owner_id);

-- A file attached to a project. Its object key is derived from the row
-- (`tenants/{tenant_id}/projects/{project_id}/{id}`), never from input.
-- `pending` until the upload is checked; never-completed rows are swept.
create table project_files (
    id           uuid primary key default gen_random_uuid(),
    tenant_id    uuid not null default nullif(current_setting('app.tenant_id', true), '')::uuid
                 references tenants (id) on delete cascade,
    project_id   uuid not null,
    name         text not null,
    content_type text not null,
    size_bytes   bigint not null,
    status       text not null default 'pending',
    created_by   uuid references users (id) on delete set null,
    created_at   timestamptz not null default now(),
    completed_at timestamptz,
    foreign key (tenant_id, project_id) references projects (tenant_id, id) on delete cascade,
    constraint project_files_name_length check (char_length(name) between 1 and 255),
    constraint project_files_type_format check (content_type ~ '^[a-z0-9.+-]+/[a-z0-9.+-]+$'),
    constraint project_files_size_range check (size_bytes >= 0),
    constraint project_files_status_known check (status in ('pending', 'ready')),
    constraint project_files_ready_completed check ((status = 'ready') = (completed_at is not null))
);
create index project_files_tenant_project_idx on project_files (tenant_id, project_id, created_at, id);
create index project_files_pending_idx on project_files (created_at) where status = 'pending';
grant select, insert, update, delete on project_files to app;

-- Objects to remove from storage: written in the transaction that deletes
-- their rows (a file, or a project with its files), removed from storage
-- after the commit and retried by the sweeper while storage is away.
create table storage_deletions (
    tenant_id  uuid not null default nullif(current_setting('app.tenant_id', true), '')::uuid
               references tenants (id) on delete cascade,
    object_key text not null,
    queued_at  timestamptz not null default now(),
    primary key (tenant_id, object_key)
);
grant select, insert, update, delete on storage_deletions to app;

-- Bytes and files stored per tenant, counted from ready files by triggers,
-- so no code path can forget to count.
create table tenant_storage (
    tenant_id uuid primary key default nullif(current_setting('app.tenant_id', true), '')::uuid
              references tenants (id) on delete cascade,
    bytes     bigint not null default 0,
    files     bigint not null default 0,
    constraint tenant_storage_not_negative check (bytes >= 0 and files >= 0)
);
grant select, insert, update on tenant_storage to app;

-- Runs as the invoker (under RLS, in the row's tenant): a file becoming
-- ready adds its bytes, a ready file deleted (alone or with its project)
-- takes them away.
create function count_stored_bytes()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    if tg_op = 'UPDATE' and old.status = 'pending' and new.status = 'ready' then
        insert into public.tenant_storage as s (tenant_id, bytes, files)
        values (new.tenant_id, new.size_bytes, 1)
        on conflict (tenant_id) do update set bytes = s.bytes + excluded.bytes, files = s.files + 1;
    elsif tg_op = 'DELETE' and old.status = 'ready' then
        update public.tenant_storage
        set bytes = bytes - old.size_bytes, files = files - 1
        where tenant_id = old.tenant_id;
    end if;
    return null;
end;
$$;
-- Fired as a trigger only; nobody calls it.
revoke all on function count_stored_bytes() from public;
create trigger project_files_count_bytes
    after update of status or delete on project_files
    for each row execute function count_stored_bytes();

-- A POST's answer under the caller's idempotency key, for 24 hours: the
-- same key and request replay it, the same key with another request is
-- refused. The primary key makes two concurrent requests with one key
-- serialize: the second waits for the first's transaction.
create table idempotency_keys (
    tenant_id   uuid not null default nullif(current_setting('app.tenant_id', true), '')::uuid
                references tenants (id) on delete cascade,
    key         text not null,
    -- SHA-256 of the caller, the operation and the request.
    fingerprint bytea not null,
    status      smallint,
    response    text,
    created_at  timestamptz not null default now(),
    primary key (tenant_id, key),
    constraint idempotency_keys_key_format check (key ~ '^[\x21-\x7e]{1,255}$')
);
create index idempotency_keys_created_idx on idempotency_keys (created_at);
grant select, insert, update, delete on idempotency_keys to app;

-- Row-level security on each new tenant table, the recipe of
-- docs/database.md: enabled and forced, one policy per command comparing
-- tenant_id with the transaction's tenant.
do $$
declare
    t text;
    tenant constant text := $q$tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid$q$;
begin
    foreach t in array array['project_files', 'storage_deletions', 'tenant_storage', 'idempotency_keys'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I for select using (%s)', t || '_select', t, tenant);
        execute format('create policy %I on %I for insert with check (%s)', t || '_insert', t, tenant);
        execute format('create policy %I on %I for update using (%s) with check (%s)', t || '_update', t, tenant, tenant);
        execute format('create policy %I on %I for delete using (%s)', t || '_delete', t, tenant);
    end loop;
end
$$;

-- The sweeper crosses tenants, so it runs as the platform role through
-- these definer functions, each doing one bounded piece of housekeeping.
grant select, delete on project_files, storage_deletions, idempotency_keys to app_definer;
grant insert on storage_deletions to app_definer;
-- The sweep locks what it takes (FOR UPDATE SKIP LOCKED), which needs it.
grant update on project_files to app_definer;
grant create on schema public to app_definer;

-- Uploads never completed within `p_older_than`: their rows are deleted and
-- their keys queued for deletion (the object may exist if the client
-- uploaded and never called complete). Returns how many were swept.
create function sweep_stale_uploads(p_older_than interval, p_limit integer)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    swept integer;
begin
    if p_older_than is null or p_older_than < interval '1 minute' then
        raise exception 'sweep_stale_uploads: p_older_than must be at least a minute' using errcode = '22023';
    end if;
    with stale as (
        select id from public.project_files
        where status = 'pending' and created_at < now() - p_older_than
        order by created_at
        limit least(greatest(coalesce(p_limit, 100), 1), 1000)
        for update skip locked
    ), gone as (
        delete from public.project_files f using stale
        where f.id = stale.id
        returning f.tenant_id, 'tenants/' || f.tenant_id || '/projects/' || f.project_id || '/' || f.id as object_key
    )
    insert into public.storage_deletions (tenant_id, object_key)
    select tenant_id, object_key from gone
    on conflict do nothing;
    get diagnostics swept = row_count;
    return swept;
end;
$$;
alter function sweep_stale_uploads(interval, integer) owner to app_definer;
revoke all on function sweep_stale_uploads(interval, integer) from public;
grant execute on function sweep_stale_uploads(interval, integer) to app_platform;

-- Object keys waiting for deletion from storage, oldest first.
create function pending_storage_deletions(p_limit integer)
returns table (object_key text)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select d.object_key from public.storage_deletions d
    order by d.queued_at
    limit least(greatest(coalesce(p_limit, 100), 1), 1000);
$$;
alter function pending_storage_deletions(integer) owner to app_definer;
revoke all on function pending_storage_deletions(integer) from public;
grant execute on function pending_storage_deletions(integer) to app_platform;

-- Forgets queued keys whose objects are gone from storage, once they have
-- been queued for `p_kept`: until every upload URL signed for a key has
-- expired, a late PUT could bring its object back, so the housekeeping
-- deletes it again each round.
create function storage_deleted(p_keys text[], p_kept interval)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    done integer;
begin
    if p_kept is null then
        raise exception 'storage_deleted: p_kept must not be null' using errcode = '22004';
    end if;
    delete from public.storage_deletions
    where object_key = any(coalesce(p_keys, '{}')) and queued_at < now() - p_kept;
    get diagnostics done = row_count;
    return done;
end;
$$;
alter function storage_deleted(text[], interval) owner to app_definer;
revoke all on function storage_deleted(text[], interval) from public;
grant execute on function storage_deleted(text[], interval) to app_platform;

-- Idempotency keys past their 24 hours.
create function expire_idempotency_keys()
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    done integer;
begin
    delete from public.idempotency_keys where created_at < now() - interval '24 hours';
    get diagnostics done = row_count;
    return done;
end;
$$;
alter function expire_idempotency_keys() owner to app_definer;
revoke all on function expire_idempotency_keys() from public;
grant execute on function expire_idempotency_keys() to app_platform;

-- The operators' tenant list pages like every other list: by creation
-- time, then id, after a position.
drop function list_tenants(uuid, integer);
create function list_tenants(p_after_at timestamptz, p_after uuid, p_limit integer)
returns setof tenants
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select *
    from public.tenants
    where p_after_at is null or (created_at, id) > (p_after_at, p_after)
    order by created_at, id
    limit least(greatest(coalesce(p_limit, 20), 1), 101);
$$;
alter function list_tenants(timestamptz, uuid, integer) owner to app_definer;
revoke all on function list_tenants(timestamptz, uuid, integer) from public;
grant execute on function list_tenants(timestamptz, uuid, integer) to app_platform;

revoke create on schema public from app_definer;
