"""The rules of 接诉即办 as pure Python: no I/O, no imports from the rest of the project.

This code runs inside the Temporal workflows (and is replayed by them): it must stay
deterministic — time comes in as `now`, no clocks, randomness, I/O or environment — and a
change to what it decides changes running workflows, so it goes behind `workflow.patched` in
the workflow that calls it.

Glossary (the code uses the English names):
- 诉求 appeal; 工单 work order; 诉求人 citizen (appellant)
- 承办单位 handling unit; 街道/乡镇 street/township; 区政府 district government (兜底 backstop)
- 派单 dispatch; 派单目录 dispatch catalogue; 首接负责制 first-receiver responsibility
- 管辖异议/退单 jurisdiction objection; 阶段性报告 phased report; 协办 co-handling
- 街乡吹哨、部门报到 whistle-summoning; 督办 supervision; 回访 return visit; 重办 re-handling
- 三率 the three rates: 响应率 response, 解决率 resolution, 满意率 satisfaction
"""
