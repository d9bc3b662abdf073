//! Every text the user reads, in one place, so that an English locale can
//! follow by swapping this module's contents.

pub const APP_TITLE: &str = "督办 · 法治政府建设示范创建";
pub const LOADING: &str = "正在加载……";
pub const NO_CAMPAIGNS: &str = "尚未导入任何创建任务。";
pub const LOAD_FAILED: &str = "加载失败：";
pub const PERIOD: &str = "创建周期 ";

pub fn indicator_summary(level1: i64, level2: i64, tasks: i64) -> String {
    format!("一级指标 {level1} 项，二级指标 {level2} 项，任务共 {tasks} 项")
}
