//! Resource versions: reading the current or a given version, and writing a new version
//! together with the current-version pointer. A write names the version it replaces, so a
//! concurrent writer that got there first makes it fail with `VersionConflict` instead of
//! being silently overwritten.

use diesel::prelude::*;

use super::conn::{Conn, first_row, on_conn};
use super::error::StorageError;
use super::schema::{current_resources, resource_versions};

/// One stored version of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = resource_versions)]
pub struct VersionRow {
    pub seq: i64,
    pub res_type: String,
    pub res_id: String,
    pub version_id: i64,
    pub last_updated: i64,
    pub method: String,
    pub is_deleted: bool,
    pub content: Option<String>,
}

/// The current state of a resource (its newest version).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = current_resources)]
pub struct CurrentRow {
    pub res_type: String,
    pub res_id: String,
    pub version_id: i64,
    pub last_updated: i64,
    pub is_deleted: bool,
    pub content: Option<String>,
}

/// How a version came to be, as recorded in history (`Bundle.entry.request.method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMethod {
    Create,
    Update,
    Patch,
    Delete,
}

impl WriteMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            WriteMethod::Create => "POST",
            WriteMethod::Update => "PUT",
            WriteMethod::Patch => "PATCH",
            WriteMethod::Delete => "DELETE",
        }
    }
}

/// A new version to store. `replaces` is the current version it supersedes (`None` when
/// the resource has no row yet).
#[derive(Debug, Clone, Copy)]
pub struct NewVersion<'a> {
    pub res_type: &'a str,
    pub res_id: &'a str,
    pub version_id: i64,
    pub replaces: Option<i64>,
    pub last_updated: i64,
    pub method: WriteMethod,
    /// The JSON of the version; `None` for a deletion.
    pub content: Option<&'a str>,
    pub author: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = resource_versions)]
struct VersionInsert<'a> {
    res_type: &'a str,
    res_id: &'a str,
    version_id: i64,
    last_updated: i64,
    method: &'a str,
    is_deleted: bool,
    content: Option<&'a str>,
    author: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = current_resources)]
struct CurrentInsert<'a> {
    res_type: &'a str,
    res_id: &'a str,
    version_id: i64,
    last_updated: i64,
    is_deleted: bool,
    content: Option<&'a str>,
}

/// The version row of `new`.
fn version_insert<'a>(new: &NewVersion<'a>) -> VersionInsert<'a> {
    VersionInsert {
        res_type: new.res_type,
        res_id: new.res_id,
        version_id: new.version_id,
        last_updated: new.last_updated,
        method: new.method.as_str(),
        is_deleted: new.method == WriteMethod::Delete,
        content: new.content,
        author: new.author,
    }
}

/// The current-version row of `new`, when it is the first version.
fn current_insert<'a>(new: &NewVersion<'a>) -> CurrentInsert<'a> {
    CurrentInsert {
        res_type: new.res_type,
        res_id: new.res_id,
        version_id: new.version_id,
        last_updated: new.last_updated,
        is_deleted: new.method == WriteMethod::Delete,
        content: new.content,
    }
}

/// The current version of `res_type/res_id`, deleted or not; `None` if it never existed.
pub fn current(
    conn: &mut Conn<'_>,
    res_type: &str,
    res_id: &str,
) -> Result<Option<CurrentRow>, StorageError> {
    let query = current_resources::table
        .filter(current_resources::res_type.eq(res_type))
        .filter(current_resources::res_id.eq(res_id));
    Ok(on_conn!(conn, c => query.select(CurrentRow::as_select()).load(c).map(first_row))?)
}

/// One given version of `res_type/res_id`.
pub fn version(
    conn: &mut Conn<'_>,
    res_type: &str,
    res_id: &str,
    version_id: i64,
) -> Result<Option<VersionRow>, StorageError> {
    let query = resource_versions::table
        .filter(resource_versions::res_type.eq(res_type))
        .filter(resource_versions::res_id.eq(res_id))
        .filter(resource_versions::version_id.eq(version_id));
    Ok(on_conn!(conn, c => query.select(VersionRow::as_select()).load(c).map(first_row))?)
}

/// Who wrote the first version of `res_type/res_id` (the subject's reference), if known.
pub fn creator(
    conn: &mut Conn<'_>,
    res_type: &str,
    res_id: &str,
) -> Result<Option<String>, StorageError> {
    let query = resource_versions::table
        .filter(resource_versions::res_type.eq(res_type))
        .filter(resource_versions::res_id.eq(res_id))
        .filter(resource_versions::version_id.eq(1))
        .select(resource_versions::author);
    Ok(on_conn!(conn, c => query.load::<Option<String>>(c).map(first_row))?.flatten())
}

/// Stores `new` as a version and makes it current. Fails with `VersionConflict` when the
/// current version is no longer `new.replaces` (another writer came first).
pub fn put_version(conn: &mut Conn<'_>, new: &NewVersion<'_>) -> Result<(), StorageError> {
    let deleted = new.method == WriteMethod::Delete;
    let row = version_insert(new);
    // On PostgreSQL a first version goes as first versions written together do.
    #[cfg(feature = "postgres")]
    if new.replaces.is_none() && matches!(conn.link, super::conn::Link::Postgres(_)) {
        return put_created(conn, std::slice::from_ref(new));
    }
    on_conn!(conn, c => diesel::insert_into(resource_versions::table).values(&row).execute(c))?;
    match new.replaces {
        None => {
            let current = current_insert(new);
            on_conn!(conn, c => diesel::insert_into(current_resources::table).values(&current).execute(c))?;
        }
        Some(previous) => {
            let target = current_resources::table
                .filter(current_resources::res_type.eq(new.res_type))
                .filter(current_resources::res_id.eq(new.res_id))
                .filter(current_resources::version_id.eq(previous));
            let changes = (
                current_resources::version_id.eq(new.version_id),
                current_resources::last_updated.eq(new.last_updated),
                current_resources::is_deleted.eq(deleted),
                current_resources::content.eq(new.content),
            );
            let updated = on_conn!(conn, c => diesel::update(target).set(changes).execute(c))?;
            if updated != 1 {
                return Err(StorageError::VersionConflict);
            }
        }
    }
    Ok(())
}

/// Stores versions written together, as `put_version` does one by one. First versions
/// (`replaces` is `None`: a create, or an audited search storing one AuditEvent per patient
/// it returned) go on PostgreSQL in one round trip, a multi-row insert per table in one
/// statement (`Combined`); on SQLite, and for any other version, one statement per row.
pub fn put_created(conn: &mut Conn<'_>, created: &[NewVersion<'_>]) -> Result<(), StorageError> {
    match &mut conn.link {
        #[cfg(feature = "postgres")]
        super::conn::Link::Postgres(connection)
            if created.iter().all(|new| new.replaces.is_none()) =>
        {
            let c: &mut diesel::PgConnection = connection;
            // 8 columns: both tables' rows of a chunk bind 16,000 values, under
            // `Combined`'s bound.
            let versions: Vec<VersionInsert<'_>> = created.iter().map(version_insert).collect();
            let current: Vec<CurrentInsert<'_>> = created.iter().map(current_insert).collect();
            let mut both = super::combined::Combined::default();
            for (versions, current) in versions.chunks(1_000).zip(current.chunks(1_000)) {
                let insert = diesel::insert_into(resource_versions::table).values(versions);
                both.push(c, insert, versions.len() * 8)?;
                let insert = diesel::insert_into(current_resources::table).values(current);
                both.push(c, insert, current.len() * 8)?;
            }
            both.send(c)?;
        }
        _ => {
            for new in created {
                put_version(conn, new)?;
            }
        }
    }
    Ok(())
}

/// How many live resources there are.
pub fn count_live(conn: &mut Conn<'_>) -> Result<i64, StorageError> {
    let query = current_resources::table
        .filter(current_resources::is_deleted.eq(false))
        .count();
    Ok(on_conn!(conn, c => query.get_result(c))?)
}

/// Live current rows after `after` (type, id) in (type, id) order, at most `limit`.
pub fn live_page(
    conn: &mut Conn<'_>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<CurrentRow>, StorageError> {
    Ok(on_conn!(conn, c => {
        let mut query = current_resources::table
            .filter(current_resources::is_deleted.eq(false))
            .into_boxed();
        if let Some((res_type, res_id)) = after {
            query = query.filter(
                current_resources::res_type.gt(res_type).or(current_resources::res_type
                    .eq(res_type)
                    .and(current_resources::res_id.gt(res_id))),
            );
        }
        query
            .order((current_resources::res_type, current_resources::res_id))
            .limit(limit)
            .select(CurrentRow::as_select())
            .load(c)
    })?)
}
