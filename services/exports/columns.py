"""The columns an export knows: each key's title in Chinese and English and its kind (money is
written as a number with two decimals in xlsx and as a decimal string in CSV)."""

from __future__ import annotations

from typing import Literal

Kind = Literal["money", "number", "int", "date", "text"]

# key: (中文, English, kind)
COLUMNS: dict[str, tuple[str, str, Kind]] = {
    "dealer_id": ("经销商编号", "Dealer id", "text"),
    "dealer_name": ("经销商", "Dealer", "text"),
    "name": ("名称", "Name", "text"),
    "order_id": ("订单编号", "Order id", "text"),
    "client_ref": ("客户参考号", "Client reference", "text"),
    "slip_id": ("确认单编号", "Slip id", "text"),
    "line": ("行号", "Line", "int"),
    "rank": ("排名", "Rank", "int"),
    "region_rank": ("区域排名", "Region rank", "int"),
    "position": ("日志位置", "Log position", "int"),
    "orders": ("订单数", "Orders", "int"),
    "dealers": ("经销商数", "Dealers", "int"),
    "count": ("数量", "Count", "int"),
    "period": ("期间", "Period", "text"),
    "month": ("月份", "Month", "text"),
    "week": ("周", "Week", "text"),
    "kind": ("类别", "Kind", "text"),
    "status": ("状态", "Status", "text"),
    "tier": ("等级", "Tier", "text"),
    "region": ("区域", "Region", "text"),
    "regions": ("覆盖区域", "Regions", "text"),
    "salesperson": ("业务人员", "Salesperson", "text"),
    "pool": ("备件池编号", "Pool id", "text"),
    "pool_name": ("备件池", "Pool", "text"),
    "policy_version": ("政策版本", "Policy version", "text"),
    "step": ("渠道进度", "Channel step", "text"),
    "flags": ("标记", "Flags", "text"),
    "note": ("备注", "Note", "text"),
    "why": ("说明", "Explanation", "text"),
    "a_dealers": ("A级经销商", "Tier-A dealers", "text"),
    "aa_dealers": ("AA级经销商", "Tier-AA dealers", "text"),
    "flagged": ("缺少AA接替", "Lacks AA successor", "text"),
    "lacks_aa_successor": ("缺少AA接替", "Lacks AA successor", "text"),
    "bonus_candidate": ("奖金候选", "Bonus candidate", "text"),
    "reached": ("达成", "Reached", "text"),
    "issued_on": ("签发日期", "Issued on", "date"),
    "confirmed_on": ("确认日期", "Confirmed on", "date"),
    "order_date": ("订单日期", "Order date", "date"),
    "business_date": ("业务日期", "Business date", "date"),
    "on": ("日期", "On", "date"),
    "date": ("日期", "Date", "date"),
    "account": ("科目", "Account", "text"),
    "reference": ("摘要", "Reference", "text"),
    "debit": ("借方", "Debit", "money"),
    "credit": ("贷方", "Credit", "money"),
    "from": ("起", "From", "date"),
    "to": ("止", "To", "date"),
    "rate": ("返点率", "Rate", "number"),
    "achievement": ("达成率", "Achievement", "number"),
    "basis": ("基数", "Basis", "money"),
    "threshold": ("门槛", "Threshold", "money"),
    "amount": ("金额", "Amount", "money"),
    "total": ("合计", "Total", "money"),
    "value": ("金额", "Value", "money"),
    "net_sales": ("净销售额", "Net sales", "money"),
    "deliveries": ("发货额", "Deliveries", "money"),
    "returns": ("退货额", "Returns", "money"),
    "rebates": ("返点", "Rebates", "money"),
    "quota": ("定额", "Quota", "money"),
    "carried": ("结转差额", "Carried shortfall", "money"),
    "target": ("目标", "Target", "money"),
    "bonus": ("奖金", "Bonus", "money"),
    "carried_over": ("上月结转", "Carried over", "money"),
    "allocated": ("分配", "Allocated", "money"),
    "drawn": ("领用", "Drawn", "money"),
    "balance": ("余额", "Balance", "money"),
    "month_to_date": ("本月累计", "Month to date", "money"),
    # finance's printed tables (services/exports/finance.py)
    "answer": ("经销商答复", "Dealer's answer", "text"),
    "answered_on": ("答复日期", "Answered on", "date"),
    "reason": ("异议理由", "Dispute reason", "text"),
    "resolution": ("处理结果", "Resolution", "text"),
    "resolved_on": ("处理日期", "Resolved on", "date"),
    "correction": ("更正金额", "Correction", "money"),
    "bracket": ("档次", "Bracket", "int"),
    "upper": ("上限(不含)", "Up to (excluded)", "money"),
    "next_threshold": ("下一档门槛", "Next threshold", "money"),
    "next_rate": ("下一档返点率", "Next rate", "number"),
    "distance": ("距下一档", "Distance to next", "money"),
}


def title(key: str) -> str:
    """The column's bilingual title, "中文 / English"."""
    zh, en, _ = COLUMNS[key]
    return f"{zh} / {en}"


def kind(key: str) -> Kind:
    return COLUMNS[key][2]
