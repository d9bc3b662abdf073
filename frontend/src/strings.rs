//! Every text the user reads, in one place, so that an English locale can
//! follow by swapping this module's contents. Names of statuses, lists and
//! roles come from duban-dto's `zh_name`, shared with the server's exports.

use duban_dto::api::Problem;

pub const APP_TITLE: &str = "督办 · 法治政府建设示范创建";
pub const LOADING: &str = "正在加载……";
pub const NO_CAMPAIGNS: &str = "尚未导入任何创建任务。";
pub const LOAD_FAILED: &str = "加载失败：";
pub const SIGN_IN: &str = "登录";
pub const SIGN_OUT: &str = "退出";
pub const USERNAME: &str = "用户名";
pub const PASSWORD: &str = "密码";
pub const SIGNED_OUT: &str = "登录已过期，请重新登录。";
pub const NETWORK_ERROR: &str = "无法连接服务器：";
pub const UPLOAD_FAILED: &str = "上传中断";
pub const SAVE: &str = "保存";
pub const MORE: &str = "加载更多";
pub const NONE: &str = "无";
pub const DONE: &str = "已完成";

// Navigation.
pub const NAV_DASHBOARD: &str = "总览";
pub const NAV_TASKS: &str = "任务清单";
pub const NAV_MY_UNIT: &str = "本单位任务";
pub const NAV_REVIEWS: &str = "待审核";
pub const NAV_ADMIN: &str = "管理";
pub const NAV_ACCOUNT: &str = "账户";
pub const CHANGE_PASSWORD: &str = "修改密码";
pub const NAV_NOTICES: &str = "督办";
pub const NAV_INBOX: &str = "消息";
pub const NOT_FOUND: &str = "页面不存在。";
pub const READ_ONLY: &str = "只读：督查人员可查看全部内容，不能修改。";

// Password change.
pub const CURRENT_PASSWORD: &str = "当前密码";
pub const NEW_PASSWORD: &str = "新密码";
pub const PASSWORD_CHANGED: &str = "密码已修改，其他设备上的登录已退出。";
pub const PASSWORD_RULES: &str = "至少 8 位，包含大写字母、小写字母、数字、其他字符中的至少 3 类，不含用户名，不与最近 5 次的密码相同。";
pub const MUST_CHANGE_PASSWORD: &str = "初始密码或已重置、已过期的密码须先修改，才能继续使用。";
pub const MUST_ENROL_MFA: &str = "您的账号须启用动态口令（双因素认证）后才能继续使用。";
pub const OTP: &str = "动态口令";
pub const OTP_HINT: &str = "身份验证器中的 6 位数字；手机不在身边时可输入一个恢复码。";
pub const MFA: &str = "动态口令（双因素认证）";
pub const MFA_OFF: &str = "尚未启用。启用后，登录时除密码外还须输入身份验证器中的动态口令。";
pub const MFA_ON: &str = "已启用。";
pub const MFA_ENABLE: &str = "启用动态口令";
pub const MFA_SCAN: &str = "用身份验证器（如微信小程序“腾讯身份验证器”、Google Authenticator）扫描二维码，或手工输入密钥：";
pub const MFA_SECRET: &str = "密钥：";
pub const MFA_CONFIRM: &str = "确认启用";
pub const MFA_RENEW_CODES: &str = "重新生成恢复码";
pub const MFA_DISABLE: &str = "停用动态口令";
pub const MFA_RECOVERY_CODES: &str = "恢复码（每个只能使用一次，仅显示这一次，请抄写或打印后妥善保管）：";
pub const MFA_CODES_KEPT: &str = "我已保存恢复码";
pub const SESSIONS: &str = "登录会话";
pub const UNLOCK: &str = "解锁";
pub const MFA_RESET: &str = "重置动态口令";
pub const SESSION_STARTED: &str = "登录时间";
pub const SESSION_LAST_USED: &str = "最近活动";
pub const SESSION_ENDS: &str = "到期时间";
pub const SESSION_FROM: &str = "来源";
pub const SESSION_THIS: &str = "当前会话";
pub const SESSION_END: &str = "退出该会话";

// Dashboard.
pub const ELAPSED: &str = "创建周期已过";
pub const BY_LIST: &str = "各清单完成情况";
pub const BY_INDICATOR: &str = "各指标完成情况";
pub const BY_UNIT: &str = "各单位完成情况";
pub const LIGHTS: &str = "进度灯";
pub const LIGHT_RED: &str = "红灯：已逾期或严重滞后";
pub const LIGHT_YELLOW: &str = "黄灯：7日内到期或进度滞后";
pub const LIGHT_GREEN: &str = "绿灯：按计划推进";
pub const OVERDUE: &str = "逾期";
/// Counted by task: a task with any late work counts once.
pub const OVERDUE_TASKS: &str = "逾期任务";
/// Counted by assignment: each unit's late work on a task.
pub const OVERDUE_ASSIGNMENTS: &str = "逾期分工";
pub const SORT_BY: &str = "排序：";
pub const SORT_ROSTER: &str = "按单位名册";
pub const SORT_OVERDUE: &str = "逾期最多在前";
pub const SORT_APPROVED: &str = "完成比例最低在前";
pub const UNIT_TABLE_COUNTS: &str = "“逾期分工”按单位的每项分工计数（一项任务有几个单位逾期就计几次）；上方“逾期任务”按任务计数。";
pub const APPROVED: &str = "已通过";
pub const QUANTIFIED: &str = "量化指标（本年度）";
pub const MET: &str = "达标";
pub const NOT_MET: &str = "未达标";
pub const UNKNOWN: &str = "待填报";
pub const NEGATIVE: &str = "负面清单";
pub const VETOED: &str = "已发生负面清单事项并经确认，创建一票否决。";
pub const NEGATIVE_CLEAR: &str = "未发生负面清单事项";
pub const AWAITING_CONFIRMATION: &str = "待确认的报告";
pub const UNIT: &str = "单位";
pub const AS_LEAD: &str = "牵头";
pub const AS_RESPONSIBLE: &str = "责任";
pub const IN_REVIEW: &str = "审核中";
pub const RETURNED: &str = "退回";

// Task list.
pub const LEVEL1: &str = "一级指标";
pub const LEVEL2: &str = "二级指标";
pub const NUMBER: &str = "序号";
pub const TASK: &str = "三级指标(具体任务事项)";
pub const LEADS: &str = "牵头单位";
pub const RESPONSIBLE: &str = "责任单位";
pub const STATUS: &str = "状态";
pub const DUE: &str = "截止日期";
pub const SEARCH: &str = "搜索任务内容或编码";
pub const ALL_LISTS: &str = "全部清单";
pub const ALL_STATUSES: &str = "全部状态";
pub const ONLY_OVERDUE: &str = "只看逾期";
pub const INDICATOR_TREE: &str = "指标体系";
pub const ALL_INDICATORS: &str = "全部任务";
pub const CLEAR_FILTERS: &str = "清除筛选";
pub const NO_TASKS: &str = "没有符合条件的任务。";

// Task page.
pub const TARGETS: &str = "量化目标";
pub const ASSIGNMENTS: &str = "分工落实";
pub const ROLE: &str = "角色";
pub const PROGRESS: &str = "进展";
pub const HISTORY: &str = "审核记录";
pub const EVIDENCE: &str = "佐证材料";
pub const NO_EVIDENCE: &str = "尚未上传佐证材料。";
pub const VERSIONS: &str = "历史版本";
pub const SEALED: &str = "已封存";
pub const PREVIEW: &str = "预览";
pub const DOWNLOAD: &str = "下载";
pub const WITHDRAW: &str = "撤回";
pub const NEW_VERSION: &str = "上传新版本";
pub const ASSIGN: &str = "分配责任单位";
pub const ASSIGN_UNIT: &str = "选择单位";
pub const ASSIGN_GROUP: &str = "或整组分配";
pub const ASSIGNED: &str = "已分配";
pub const SAVE_DUE: &str = "保存截止日期";
pub const REMOVE_ASSIGNMENT: &str = "移除该单位";
pub const CONFIRM_REMOVE_ASSIGNMENT: &str = "确定移除该单位的这项分工吗？";
pub const PRINT: &str = "打印";

// Work on an assignment.
pub const UPLOAD: &str = "上传佐证材料";
pub const DROP_FILES: &str = "将文件拖到这里，或点击选择（可多选）";
pub const DESCRIPTION: &str = "材料说明";
pub const EFFECTIVE_DATE: &str = "材料日期";
pub const UPLOADING: &str = "正在上传";
pub const SUBMIT: &str = "报送审核";
pub const PROGRESS_NOTE: &str = "进展情况";
pub const ACCEPT: &str = "审核通过（牵头单位）";
/// The lead office's own first review, of a lead unit's work.
pub const ACCEPT_AS_OFFICE: &str = "初审通过";
pub const RETURN: &str = "退回";
pub const RETURN_REASON: &str = "退回原因（必填）";
pub const APPROVE: &str = "最终通过";
pub const RETURNED_BECAUSE: &str = "退回原因：";
pub const NO_HISTORY: &str = "暂无审核记录。";

// My unit.
pub const TO_DO: &str = "待办";
pub const DUE_SOON: &str = "5个工作日内到期";
pub const RETURNED_TO_US: &str = "被退回";
pub const NOTHING: &str = "暂无。";
pub const HANDED_IN: &str = "已报送，待审核";
pub const SEARCH_MY_TASKS: &str = "按任务编码或内容查找";
pub const SHOW_MORE: &str = "显示更多";
pub const NO_UNIT: &str = "您的账号不属于任何单位。";

// Review queue.
pub const QUEUE_EMPTY: &str = "没有待审核的材料。";

// Admin.
pub const TAB_UNITS: &str = "单位与单位组";
pub const TAB_USERS: &str = "用户";
pub const TAB_CLIENTS: &str = "接口客户端";
pub const TAB_IMPORT: &str = "导入";
pub const TAB_EXPORT: &str = "导出";
pub const TAB_AUDIT: &str = "审计日志";
pub const NAME: &str = "名称";
pub const KIND: &str = "类型";
pub const ALIASES: &str = "别名";
pub const LAW_ENFORCEMENT: &str = "行政执法单位";
pub const GROUPS: &str = "单位组（集合称谓）";
pub const MEMBERS: &str = "成员数";
pub const ADD_UNIT: &str = "新增单位";
pub const DISPLAY_NAME: &str = "姓名";
pub const ADD_USER: &str = "新增用户";
pub const DISABLED: &str = "已停用";
pub const ADD_CLIENT: &str = "新增接口客户端";
pub const NEW_KEY: &str = "生成密钥";
pub const KEY_SHOWN_ONCE: &str = "密钥只显示这一次，请立即妥善保存：";
pub const SCOPES: &str = "权限范围";
pub const IMPORT_KIND: &str = "导入内容";
pub const DRY_RUN: &str = "仅校验（不写入）";
pub const START_IMPORT: &str = "开始导入";
pub const ROWS: &str = "行";
pub const EXPORT_WORKBOOK: &str = "导出任务分解表（Excel）";
pub const EXPORT_CSV: &str = "导出任务分解表（CSV）";
pub const EXPORT_UNITS_CSV: &str = "导出单位任务清单（CSV）";
pub const EXPORT_AUDIT: &str = "导出审计日志（CSV）";
pub const ACTION: &str = "操作";
pub const ACTOR: &str = "操作人";
pub const TIME: &str = "时间";
pub const ENTITY: &str = "对象";
pub const FILTER: &str = "筛选";

pub fn percent(done: i64, total: i64) -> String {
    if total == 0 { "—".to_owned() } else { format!("{:.0}%", done as f64 * 100.0 / total as f64) }
}

pub fn of_total(done: i64, total: i64) -> String {
    format!("{done}/{total}")
}

pub fn import_kind(kind: duban_dto::ImportKind) -> &'static str {
    match kind {
        duban_dto::ImportKind::Breakdown => "任务分解表（Word、Excel、文本或 CSV/JSON）",
        duban_dto::ImportKind::Units => "单位",
        duban_dto::ImportKind::Users => "用户",
        duban_dto::ImportKind::Assignments => "分工（任务—单位）",
    }
}

pub fn job_status(status: duban_dto::ImportJobStatus) -> &'static str {
    match status {
        duban_dto::ImportJobStatus::Queued => "排队中",
        duban_dto::ImportJobStatus::Running => "正在导入",
        duban_dto::ImportJobStatus::Completed => "完成",
        duban_dto::ImportJobStatus::Rejected => "文件有误，未写入任何数据",
        duban_dto::ImportJobStatus::Failed => "导入失败，未写入任何数据",
    }
}

pub fn row_action(action: duban_dto::RowAction) -> &'static str {
    match action {
        duban_dto::RowAction::Created => "新增",
        duban_dto::RowAction::Updated => "更新",
        duban_dto::RowAction::Unchanged => "不变",
        duban_dto::RowAction::Deleted => "删除",
        duban_dto::RowAction::Invalid => "有误",
    }
}

pub fn decision(action: &str) -> &'static str {
    match action {
        "submit" => "报送",
        "accept" => "牵头单位审核通过",
        "return" => "退回",
        "approve" => "依法治县办最终通过",
        _ => "处理",
    }
}

pub fn import_summary(created: i32, updated: i32, unchanged: i32, invalid: i32) -> String {
    format!("新增 {created}，更新 {updated}，不变 {unchanged}，有误 {invalid}")
}

/// A problem+json answer in plain Chinese, by its stable code; the
/// server's detail where no wording exists, since it names what is wrong.
/// "until 2026-12-03 15:04 (UTC+8)" from a lockout's detail, in Chinese.
fn locked_until(detail: &str) -> String {
    detail
        .split_once("until ")
        .map(|(_, rest)| rest.split(" (UTC+8)").next().unwrap_or(rest))
        .map(|time| format!("{time} 后自动解锁"))
        .unwrap_or_else(|| "请稍后再试".to_owned())
}

/// The Chinese half of a detail written "中文（English）".
fn chinese_part(detail: &str) -> String {
    detail.split('（').next().unwrap_or(detail).trim().to_owned()
}

pub fn problem(problem: &Problem) -> String {
    let text = match problem.code.as_str() {
        "unauthenticated" => "用户名或密码错误，或登录已过期。",
        // The server's detail says until when an account is locked.
        "too_many_requests" if problem.detail.as_deref().is_some_and(|detail| detail.contains("locked")) => {
            return format!("登录失败次数过多，账户已被锁定，{}。", locked_until(problem.detail.as_deref().unwrap_or_default()));
        }
        "too_many_requests" => "登录失败次数过多，请稍后再试。",
        "forbidden" if problem.detail.as_deref().is_some_and(|detail| detail.contains("separation of duties")) => {
            "同一账号或单位不能既报送又审核，也不能既初审又终审（岗位分离）。"
        }
        "forbidden" => "没有权限进行此操作。",
        "not_found" => "找不到该内容。",
        "unavailable" => "数据库暂时不可用，请稍后再试。",
        "internal_error" => "服务器内部错误。",
        "precondition_failed" => "该内容已被他人修改，请刷新后重试。",
        "invalid_transition" => "当前状态下不能进行此操作，请刷新页面后再试。",
        "evidence_frozen" => "材料正在审核中或已通过，不能再修改。",
        "nothing_to_submit" => "请先上传佐证材料，再报送审核。",
        "username_taken" => "用户名已被使用。",
        "name_taken" => "该名称已被本县其他单位使用。",
        "wrong_password" => "当前密码不正确。",
        "empty_file" | "no_file" => "请选择要上传的文件。",
        "reason_required" => "退回时必须填写原因。",
        // The server names the password rule in Chinese first.
        code if code.starts_with("password_") && code != "password_change_required" => {
            return chinese_part(problem.detail.as_deref().unwrap_or(&problem.title));
        }
        "mfa_required" => "请输入动态口令（身份验证器中的 6 位数字），或一个恢复码。",
        "invalid_otp" => "动态口令不正确或已使用，请等待下一个口令后重试。",
        "password_change_required" => "请先修改密码。",
        "mfa_enrolment_required" => "请先启用动态口令（双因素认证）。",
        "session_expired" => "登录已超时，请重新登录。",
        "too_long" => "填写的内容太长，请精简后再提交。",
        "too_many" => "数量超出上限。",
        "archive_refused" => "压缩文件解压后过大（疑似“压缩炸弹”），已拒绝。",
        "invalid_file_name" => "文件名无效：过长或含有控制字符，请重命名后再上传。",
        "evidence_corrupted" => "该文件在服务器上已损坏（与存档指纹不符），请单位重新上传同一文件。",
        "unsupported_media_type" => "文件类型不受支持：可上传 PDF、OFD、图片、Word、Excel、WPS、压缩包、音视频。",
        "payload_too_large" => "文件太大。",
        "no_units" => "请选择一个单位或一个单位组。",
        "unknown_group" => "该单位组不存在。",
        "wrong_region" => "该单位组不属于本县。",
        "unknown_unit" => "所选单位不属于本县。",
        "work_started" => "该单位已开始办理或已填报进展，不能移除这项分工。",
        "no_scopes" => "请至少选择一项权限。",
        "invalid_name" => "名称不能为空。",
        // No wording yet: the server's detail names what is wrong.
        _ => return format!("操作未完成：{}", problem.detail.clone().unwrap_or_else(|| problem.title.clone())),
    };
    match &problem.request_id {
        Some(id) if problem.status >= 500 => format!("{text}（请求编号 {id}）"),
        _ => text.to_owned(),
    }
}

// Supervision (督办).
pub const NOTICES: &str = "督办单";
pub const ISSUE_NOTICE: &str = "发督办单";
pub const ISSUE_FOR_LATE: &str = "对逾期单位发督办单";
pub const URGE: &str = "催办";
pub const URGE_LATE: &str = "催办逾期单位";
pub const URGED_TIMES: &str = "催办";
pub const TIMES: &str = "次";
pub const NOTICE_TITLE: &str = "标题";
pub const NOTICE_LEVEL: &str = "督办等级";
pub const REQUIREMENT: &str = "督办要求";
pub const REPLY_DAYS: &str = "反馈时限（工作日）";
pub const ATTACHMENTS: &str = "附件";
pub const URGED: &str = "已催办";
pub const OPEN_NOTICES: &str = "办理中";
pub const CLOSED_NOTICES: &str = "已销号";
pub const ALL: &str = "全部";
pub const UNITS_ADDRESSED: &str = "督办单位";
pub const ACKNOWLEDGED: &str = "已签收";
pub const REPLIED: &str = "已反馈";
pub const CLOSED: &str = "已销号";
pub const EXTENSIONS_PENDING: &str = "待批延期";
pub const REPLY_DUE: &str = "反馈期限";
pub const DOCUMENT: &str = "下载督办单（Word）";
pub const REPLY_TEXT: &str = "办理情况";
pub const SEND_REPLY: &str = "提交反馈";
pub const EXTENSION_UNTIL: &str = "延期至";
pub const ASK_EXTENSION: &str = "申请延期";
pub const EXTENSION_ASKED: &str = "申请延期至";
pub const DECISION_TEXT: &str = "意见";
pub const NO_NOTICES: &str = "暂无督办单。";
pub const LATE_WORK: &str = "逾期未办";
pub const SELECT_LATE: &str = "勾选逾期任务后发督办单或催办。";
pub const NOTICE_HISTORY: &str = "督办记录";
pub const DEFAULT_REQUIREMENT: &str = "你单位承担的上述任务已超过完成时限。请对照任务要求抓紧办理，按时反馈办理情况并上传佐证材料。";

/// The words of a step on a notice, for buttons and the history.
pub fn notice_event(kind: &str) -> &'static str {
    match kind {
        "issued" => "发出督办单",
        "acknowledge" => "签收",
        "reply" => "反馈办理情况",
        "request_extension" => "申请延期",
        "grant_extension" => "同意延期",
        "refuse_extension" => "不同意延期",
        "return" => "退回",
        "close" => "销号",
        "urged" => "催办",
        "escalated_to_manager" => "升级至单位负责人",
        "escalated_to_leader" => "升级至分管领导",
        _ => "其他",
    }
}

// Inbox.
pub const INBOX: &str = "消息";
pub const MARK_READ: &str = "标为已读";
pub const MARK_ALL_READ: &str = "全部标为已读";
pub const NO_MESSAGES: &str = "没有消息。";
pub const ONLY_UNREAD: &str = "只看未读";

// Channels and contacts.
pub const CHANNELS: &str = "联系方式与消息渠道";
pub const EMAIL: &str = "电子邮箱";
pub const PHONE: &str = "手机";
pub const ALSO_BY_EMAIL: &str = "以下消息同时发送邮件：";
pub const SAVED: &str = "已保存。";
pub const ENDPOINTS: &str = "消息推送（Webhook、钉钉、企业微信）";
pub const ENDPOINT_NAME: &str = "名称";
pub const ENDPOINT_URL: &str = "地址";
pub const ENDPOINT_SECRET: &str = "密钥";
pub const ENDPOINT_CHANNEL: &str = "类型";
pub const ENDPOINT_EVENTS: &str = "推送的消息";
pub const ADD_ENDPOINT: &str = "添加";
pub const DISABLE: &str = "停用";
pub const DELIVERIES: &str = "推送记录";
pub const REDELIVER: &str = "重新推送";
pub const ATTEMPTS: &str = "尝试";
pub const REMINDER_RULES: &str = "提醒与升级规则";
pub const RULE_BEFORE: &str = "到期前提醒（工作日，逗号分隔）";
pub const RULE_OVERDUE_EVERY: &str = "逾期后每隔（工作日）催办";
pub const RULE_MANAGER: &str = "未签收升级至单位负责人（工作日）";
pub const RULE_LEADER: &str = "未签收升级至分管领导（工作日）";
pub const RULE_DEADLINES: &str = "任务截止日期";
pub const UNIT_LEADER: &str = "分管领导";
pub const LEADER_NAME: &str = "姓名";
pub const LEADER_TITLE: &str = "职务";

// 考核评分 and 通报.
pub const NAV_SCORES: &str = "评分";
pub const NAV_BULLETINS: &str = "通报";
pub const AS_OF: &str = "截至";
pub const FROM: &str = "起始日期";
pub const CAMPAIGN_SCORE: &str = "全县得分";
pub const SCORE_VETOED: &str = "负面清单事项经确认发生，实行一票否决。";
pub const INDICATOR: &str = "指标";
pub const POINTS: &str = "分值";
pub const APPROVED_TASKS: &str = "已通过任务";
pub const EARNED: &str = "得分";
pub const QUANTIFIED_TARGETS_MET: &str = "量化任务达标";
pub const SCORE_RULE: &str = "单位得分 = 完成率×40 + 按时率×30 + 一次通过率×20 + 督办按时反馈率×10（无数据的项不计，权重由其余项分担）；同类单位内排名，得分相同者名次并列，其后名次顺延。";
pub const RANK: &str = "名次";
pub const SCORE: &str = "得分";
pub const COMPLETION: &str = "完成率";
pub const ON_TIME: &str = "按时报送";
pub const FIRST_PASS: &str = "一次通过";
pub const NOTICES_ON_TIME: &str = "督办按时反馈";
pub const VETO: &str = "一票否决";
pub const SCORE_INPUTS: &str = "计分依据";
pub const DUE_DATE: &str = "到期日";
pub const FIRST_SUBMITTED: &str = "首次报送";
pub const YES: &str = "是";
pub const NO: &str = "否";
pub const NEW_BULLETIN: &str = "新建通报";
pub const NO_BULLETINS: &str = "还没有通报。";
pub const DOC_NUMBER: &str = "文号";
pub const TITLE: &str = "标题";
pub const PERIOD: &str = "类型";
pub const STATE: &str = "状态";
pub const DRAFT: &str = "送审稿";
pub const ISSUED: &str = "已签发";
pub const PERIOD_WEEK: &str = "周报";
pub const PERIOD_MONTH: &str = "月报";
pub const PERIOD_QUARTER: &str = "季报";
pub const PERIOD_SPECIAL: &str = "专项通报";
pub const ADDRESSEES: &str = "主送";
pub const SUMMARY: &str = "导语";
pub const REQUIREMENTS: &str = "下步工作要求";
pub const SAVE_DRAFT: &str = "保存送审稿";
pub const DATES_NEEDED: &str = "请填写起始日期和截至日期。";
pub const DEFAULT_BULLETIN_TITLE: &str = "关于法治政府建设示范创建工作进展情况的通报";
pub const DEFAULT_ADDRESSEES: &str = "各乡镇（街道），县直各有关部门";
pub const DEFAULT_SUMMARY: &str = "现将法治政府建设示范创建工作进展情况通报如下。";
pub const DEFAULT_REQUIREMENTS: &str = "各单位要对照逾期任务逐项整改，按期报送佐证材料。";
pub const BULLETIN_FIGURES: &str = "通报数据";
pub const CONFIRM_ISSUE: &str = "签发后通报即编号并冻结，不能再修改。确定签发？";
pub const ISSUE_BULLETIN: &str = "签发";
pub const PREVIEW_DOCX: &str = "预览 Word";
pub const DOWNLOAD_DOCX: &str = "下载 Word";
pub const DOWNLOAD_PDF: &str = "下载 PDF";
pub const DOWNLOAD_INPUTS: &str = "数据来源 CSV";
pub const TASKS: &str = "任务数";
pub const NAMED_LATE: &str = "点名通报";
pub const NO_LATE_UNITS: &str = "没有逾期未完成任务的单位。";
pub const LATE_ASSIGNMENTS: &str = "逾期任务数";
pub const MOST_DAYS_LATE: &str = "最长逾期天数";

// Merging units.
pub const MERGE_UNITS: &str = "合并单位（同一单位的两种写法）";
pub const MERGE_FROM: &str = "并入的单位（将删除）";
pub const MERGE_INTO: &str = "保留的单位";
pub const MERGE: &str = "合并";
pub const MERGE_PICK_BOTH: &str = "请选择要合并的两个单位。";
pub const CONFIRM_MERGE: &str = "合并后，该单位的任务、佐证材料、账户和历史记录将转到保留的单位，原名称作为别名保留。确定合并？";
pub const MERGED_INTO: &str = "已合并到";

// 新建县.
pub const NEW_COUNTY: &str = "新建县（区）创建";
pub const NEW_COUNTY_INTRO: &str = "上传本县单位名单（可选）和任务分解表，先试导入查看将要建立的单位和群组，确认后正式导入。";
pub const CAMPAIGN_CODE: &str = "创建代码（小写字母、数字）";
pub const COUNTY_NAME: &str = "县（区）名称";
pub const ROSTER_FILE: &str = "单位名单（可选：CSV、Excel）";
pub const TABLE_FILE: &str = "任务分解表（Word、Excel、文本）";
pub const TRY_IMPORT: &str = "试导入";
pub const PICK_TABLE: &str = "请选择任务分解表文件。";
pub const CAMPAIGN_CODE_NEEDED: &str = "请填写创建代码，如 shizong。";
pub const REGION_NEEDED: &str = "上传单位名单时请填写县（区）名称。";
pub const IMPORT_REFUSED: &str = "导入未通过，请查看报告。";
pub const WILL_CREATE: &str = "将要建立";
pub const UNITS_TO_CREATE: &str = "个单位";
pub const GROUPS_TO_CREATE: &str = "个群组";
pub const RESOLVED_BY_BUILTIN: &str = "按内置单位名称识别";
pub const TO_CHECK: &str = "请核对";
pub const CORRECT_AFTER: &str = "单位类别、执法属性和群组成员可在导入后于“管理 › 单位”中修改；同一单位的两种写法可在那里合并。";
pub const CONFIRM_IMPORT: &str = "确认导入";

// 全省.
pub const NAV_PROVINCE: &str = "全省";
pub const REGION: &str = "所属区域（县，或上级依法治理办所在的市、省）";
pub const START_CAMPAIGN: &str = "从任务清单开始一个县（区）的创建工作";
pub const TEMPLATE: &str = "清单模板（复制其指标、任务和目标，不含牵头和责任单位）";
pub const START: &str = "开始创建";
pub const CAMPAIGN_STARTED: &str = "已开始：";
pub const NO_TEMPLATE: &str = "还没有可作模板的创建工作";
pub const COUNTIES: &str = "县（区）";
pub const COUNTY: &str = "县（区）";
pub const TIME_ELAPSED: &str = "时间进度";
pub const RED_LIGHTS: &str = "红灯";
pub const YELLOW_LIGHTS: &str = "黄灯";
pub const GREEN_LIGHTS: &str = "绿灯";
