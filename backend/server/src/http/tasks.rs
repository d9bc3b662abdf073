use actix_web::{get, web};
use chrono::NaiveDate;
use duban_dto::api::{Page, TaskDetail, TaskSummary};
use duban_dto::{ScheduleLight, TaskList, TaskStatus};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::catalog::{self, TaskFilter, TaskSort};
use crate::pagination::Cursor;

/// Filters, search, order and page of the task list.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    /// Campaign code.
    campaign: Option<String>,
    list: Option<TaskList>,
    /// A level-1 or level-2 indicator id: tasks under it.
    indicator: Option<i64>,
    /// Tasks the unit leads (named in the table or assigned).
    lead_unit: Option<i64>,
    /// Tasks the unit is responsible for (named or assigned).
    responsible_unit: Option<i64>,
    status: Option<TaskStatus>,
    /// Only overdue tasks (true) or only tasks that are not (false).
    overdue: Option<bool>,
    /// Tasks with an unapproved assignment due before this date.
    due_before: Option<NaiveDate>,
    /// Tasks with this schedule light, as the dashboard counts them.
    light: Option<ScheduleLight>,
    /// Words of the task text (Chinese works: 行政复议), or a task code.
    q: Option<String>,
    #[param(inline)]
    sort: Option<TaskSort>,
    /// From `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1 to 200; 50 by default.
    limit: Option<i64>,
}

impl TaskQuery {
    fn filter(&self) -> TaskFilter {
        TaskFilter {
            campaign: self.campaign.clone(),
            list: self.list,
            indicator: self.indicator,
            lead_unit: self.lead_unit,
            responsible_unit: self.responsible_unit,
            status: self.status,
            overdue: self.overdue,
            due_before: self.due_before,
            light: self.light,
            q: self.q.clone(),
            sort: self.sort,
        }
    }
}

/// Tasks, filtered and searched, in the table's order unless sorted otherwise.
#[utoipa::path(tag = "tasks", params(TaskQuery), responses((status = 200, description = "A page of tasks", body = Page<TaskSummary>)))]
#[get("/tasks")]
pub async fn list_tasks(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<TaskQuery>,
) -> Result<web::Json<Page<TaskSummary>>, ApiError> {
    let can = caller.read_catalog()?;
    let filter = query.filter();
    let cursor = Cursor::from_query(query.cursor.as_deref(), query.limit, &filter)?;
    Ok(web::Json(state.read(move |conn| catalog::tasks(conn, &can, &filter, &cursor)).await?))
}

/// A task with its parties, targets, assignments and derived status.
#[utoipa::path(tag = "tasks", params(("id" = i64, Path, description = "Task id")), responses((status = 200, description = "The task", body = TaskDetail)))]
#[get("/tasks/{id}")]
pub async fn get_task(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<web::Json<TaskDetail>, ApiError> {
    let can = caller.read_catalog()?;
    let progress = caller.read_progress()?;
    let id = id.into_inner();
    let kept = state.kept.clone();
    Ok(web::Json(state.db(move |conn| catalog::task(conn, &kept, &can, &progress, id)).await?))
}
