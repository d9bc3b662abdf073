//! Every text the user reads, in one place, so that an English locale can
//! follow by swapping this module's contents.

use duban_dto::api::Problem;

pub const APP_TITLE: &str = "督办 · 法治政府建设示范创建";
pub const LOADING: &str = "正在加载……";
pub const NO_CAMPAIGNS: &str = "尚未导入任何创建任务。";
pub const LOAD_FAILED: &str = "加载失败：";
pub const PERIOD: &str = "创建周期 ";
pub const SIGN_IN: &str = "登录";
pub const SIGN_OUT: &str = "退出";
pub const USERNAME: &str = "用户名";
pub const PASSWORD: &str = "密码";
pub const SIGNED_OUT: &str = "登录已过期，请重新登录。";
pub const NETWORK_ERROR: &str = "无法连接服务器：";

pub fn indicator_summary(level1: i64, level2: i64, tasks: i64) -> String {
    format!("一级指标 {level1} 项，二级指标 {level2} 项，任务共 {tasks} 项")
}

/// A problem+json answer in plain Chinese, by its stable code; the
/// server's English detail only where no wording exists yet.
pub fn problem(problem: &Problem) -> String {
    let text = match problem.code.as_str() {
        "unauthenticated" => "用户名或密码错误，或登录已过期。",
        "too_many_requests" => "登录失败次数过多，请稍后再试。",
        "forbidden" => "没有权限进行此操作。",
        "not_found" => "找不到该内容。",
        "unavailable" => "数据库暂时不可用，请稍后再试。",
        "internal_error" => "服务器内部错误。",
        _ => return problem.detail.clone().unwrap_or_else(|| problem.title.clone()),
    };
    match &problem.request_id {
        Some(id) if problem.status >= 500 => format!("{text}（请求编号 {id}）"),
        _ => text.to_owned(),
    }
}
