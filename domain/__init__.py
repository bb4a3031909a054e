"""The rules of 接诉即办 as pure Python: no I/O, no imports from the rest of the project.

This code runs inside the workflows (in Temporal's sandbox, and again on every replay of a
recorded history), so a change here must keep the recorded histories replaying: a change of
behaviour (another event, another decision, another activity or timer) goes behind
`workflow.patched("<id>")` in the workflow that calls it, old runs keeping the old path, and
tests/workflows/test_replay.py (over tests/histories/*.json) proves it. A refactor that changes
nothing a workflow does needs no patch, only that test passing.

Glossary (the code uses the English names):
- 诉求 appeal; 工单 work order; 诉求人 citizen (appellant)
- 承办单位 handling unit; 街道/乡镇 street/township; 区政府 district government (兜底 backstop)
- 派单 dispatch; 派单目录 dispatch catalogue; 首接负责制 first-receiver responsibility
- 管辖异议/退单 jurisdiction objection; 阶段性报告 phased report; 协办 co-handling
- 街乡吹哨、部门报到 whistle-summoning; 督办 supervision; 回访 return visit; 重办 re-handling
- 三率 the three rates: 响应率 response, 解决率 resolution, 满意率 satisfaction
"""
