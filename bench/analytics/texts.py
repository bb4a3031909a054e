"""The Chinese text of synthetic appeals: per-category templates with variation in place, time and
wording ("朝阳区望京街道某小区门口路灯不亮已经三天了", "路灯坏了晚上很黑"), addresses and community
names made up from common syllables, and the staff's notes and results. No real person's data:
the communities are invented, and nothing names or reaches a citizen."""

from __future__ import annotations

import random

from bench.analytics.world import Place

# --- places ------------------------------------------------------------------------------------

_NAME_A = ("阳光", "金色", "和平", "幸福", "锦绣", "翠微", "松榆", "华纺", "嘉铭", "远洋", "富润", "明珠",
           "清河", "静安", "康营", "芳群", "丽泽", "晨光", "枫林", "怡景", "惠新", "育新", "安华", "青年",
           "望春", "景园", "融泽", "丰和", "双桥", "南湖", "东湖", "西山", "天通", "百子", "永泰", "紫云")
_NAME_B = ("", "", "", "东", "西", "南", "北", "新", "中")
_NAME_C = ("小区", "家园", "花园", "里", "北里", "西里", "嘉园", "公寓", "苑", "新村", "社区", "雅苑")
_ROAD_DIR = ("", "东", "西", "南", "北")
_ROAD_KIND = ("路", "街", "大街", "胡同", "中路", "一街", "二路")


def communities(place: Place, rng: random.Random, k: int = 14) -> list[str]:
    seen: list[str] = []
    while len(seen) < k:
        name = rng.choice(_NAME_A) + rng.choice(_NAME_B) + rng.choice(_NAME_C)
        if name not in seen:
            seen.append(name)
    return seen


def roads(place: Place, rng: random.Random, k: int = 6) -> list[str]:
    seen: list[str] = []
    while len(seen) < k:
        name = place.short + rng.choice(_ROAD_DIR) + rng.choice(_ROAD_KIND)
        if name not in seen:
            seen.append(name)
    return seen


def address(rng: random.Random, community_names: list[str], road_names: list[str]) -> str:
    r = rng.random()
    if r < 0.55:
        return f"{rng.choice(community_names)}{rng.randint(1, 32)}号楼"
    if r < 0.75:
        return f"{rng.choice(community_names)}{rng.randint(1, 24)}号楼{rng.randint(1, 6)}单元"
    if r < 0.92:
        return f"{rng.choice(road_names)}{rng.randint(1, 180)}号"
    a, b = rng.sample(road_names, 2)
    return f"{a}与{b}交叉口"


# --- appeals -----------------------------------------------------------------------------------

DURATIONS = ("已经三天了", "好几天了", "一个多星期了", "半个月了", "从昨晚开始", "今天早上开始", "两天了",
             "反映过好几次了", "持续很久了", "一直没人管")
ASKS = ("希望尽快处理", "请相关部门尽快解决", "希望有人来看看", "麻烦尽快派人处理", "请给个答复", "盼复", "")

TEMPLATES: dict[str, tuple[str, ...]] = {
    "MUNI.STREETLIGHT": ("{loc}门口路灯不亮{dur}，晚上很黑，老人孩子出行不安全", "{loc}的路灯坏了，晚上很黑，{ask}",
                         "{loc}附近一排路灯{dur}都不亮，{ask}", "路灯坏了晚上很黑，位置在{loc}", "{loc}路灯白天亮晚上不亮，{ask}"),
    "UTIL.HEAT.NOHEAT": ("{loc}暖气不热{dur}，室温只有十几度，{ask}", "家里暖气不热，屋里太冷了，地址{loc}",
                         "{loc}供暖温度不达标，老人孩子都冻感冒了", "{loc}暖气片上热下凉，{dur}，{ask}"),
    "UTIL.HEAT.OUTAGE": ("{loc}突然停暖了，{ask}", "{loc}楼道里供热管线跑水，{ask}", "{loc}暖气管漏水{dur}"),
    "UTIL.HEAT.FEE": ("咨询{loc}今年供暖费怎么缴纳", "{loc}供暖费收费标准是多少", "不供暖为什么还收全额供暖费，{loc}"),
    "HOUSING.PROPERTY": ("{loc}物业不作为，楼道垃圾没人清理{dur}", "{loc}物业乱收费，{ask}", "{loc}物业服务差，报修{dur}没人来",
                         "{loc}小区门禁坏了物业不管", "反映{loc}物业公司不让业主查看收支账目"),
    "ENV.NOISE": ("{loc}楼下商户噪音扰民，晚上十一点还在放音乐", "{loc}广场舞音响声音太大{dur}", "{loc}附近酒吧夜间噪音很大，{ask}",
                  "{loc}楼上装修噪音{dur}，周末一早就开始"),
    "ENV.WORKSNOISE": ("{loc}工地夜间施工，凌晨还在打桩，{ask}", "{loc}附近工地半夜施工噪音扰民{dur}", "{loc}夜间施工渣土车噪音很大"),
    "ENV.FUMES": ("{loc}底商餐馆油烟直排{dur}，{ask}", "{loc}烧烤店油烟太大，窗户都不敢开"),
    "PARKING.ILLEGAL": ("{loc}门口有车辆长期占道停车，{ask}", "{loc}消防通道被违停车辆堵住了", "{loc}路边乱停车，早晚高峰堵得走不了"),
    "PARKING.SHORTAGE": ("{loc}停车位太少，每天晚上找不到车位", "{loc}附近停车难，希望增加停车位", "{loc}小区车位只租不售，停车难{dur}"),
    "PARKING.ABANDONED": ("{loc}有一辆僵尸车停了{dur}，{ask}",),
    "CITY.GARBAGE": ("{loc}垃圾桶满了没人清运{dur}", "{loc}路边堆放垃圾，气味很大，{ask}", "{loc}垃圾清运不及时，{ask}"),
    "CITY.SORTING": ("{loc}垃圾分类桶站位置不合理，{ask}", "{loc}垃圾分类后又混装运走了"),
    "CITY.ILLEGALBUILD": ("举报{loc}有人私搭乱建，在楼顶加盖房屋", "{loc}一层住户私自扩建占用绿地，{ask}"),
    "CITY.VENDOR": ("{loc}门口无照游商占道经营{dur}", "{loc}早市摊贩占道，行人无法通行"),
    "CITY.ADS": ("{loc}楼道里贴满小广告，{ask}",), "CITY.CLEANING": ("{loc}道路清扫不及时，落叶很多",),
    "GREEN.WEEDS": ("{loc}绿地杂草很高没人清理，蚊虫很多", "{loc}的杂草又长起来了，{ask}", "{loc}空地杂草丛生{dur}"),
    "GREEN.CATKINS": ("{loc}杨柳飞絮太多，希望喷水治理", "{loc}飞絮严重，孩子过敏"),
    "GREEN.TREE": ("{loc}树枝挡住窗户，希望修剪", "{loc}行道树需要修剪，挡住路灯了"),
    "GREEN.TREEHAZARD": ("{loc}有棵大树倒了压在路上", "{loc}树枝断了悬在半空很危险"),
    "MUNI.ROAD": ("{loc}路面有大坑{dur}，电动车很容易摔倒", "{loc}道路破损严重，{ask}"),
    "MUNI.MANHOLE": ("{loc}井盖丢失，很危险，{ask}", "{loc}井盖破损塌陷"),
    "MUNI.DRAIN": ("{loc}下水道堵塞污水外溢{dur}", "{loc}化粪池满溢，臭味很大"),
    "MUNI.WATERLOGGING": ("{loc}下雨后积水严重，车辆无法通行", "{loc}桥下积水很深，{ask}"),
    "MUNI.DEADENDROAD": ("{loc}这条断头路多年没打通，出行要绕很远", "{loc}道路一直没有移交，没人维护"),
    "UTIL.WATER.OUTAGE": ("{loc}突然停水{dur}，也没有通知", "{loc}停水了，什么时候来水"),
    "UTIL.WATER.PRESSURE": ("{loc}高层水压低，用水困难{dur}",), "UTIL.WATER.QUALITY": ("{loc}自来水发黄有异味",),
    "UTIL.POWER.OUTAGE": ("{loc}停电{dur}，冰箱里东西都坏了", "{loc}整栋楼停电了，{ask}"),
    "UTIL.GAS.SERVICE": ("{loc}燃气表坏了无法充值", "咨询{loc}燃气开栓怎么办理"),
    "HOUSING.LIFTFAULT": ("{loc}电梯又坏了{dur}，老人上下楼困难", "{loc}电梯经常困人，{ask}"),
    "HOUSING.ELEVATOR": ("{loc}老楼想加装电梯，怎么申请", "{loc}加装电梯的事推进不下去"),
    "HOUSING.EBIKECHARGE": ("{loc}电动车在楼道里充电，很危险", "{loc}没有电动自行车充电桩，{ask}"),
    "MARKET.PREPAID": ("{loc}健身房关门跑路，预付卡没法退费", "{loc}教育机构预付费退费难，{ask}", "{loc}理发店办的卡不让退了"),
    "MARKET.ONLINE": ("网购商品质量有问题，商家不给退货", "网上买的东西迟迟不发货，客服也联系不上"),
    "LABOR.WAGES": ("{loc}工地拖欠农民工工资{dur}", "公司拖欠三个月工资，{ask}", "{loc}餐馆拖欠员工工资不给"),
    "LABOR.DISPUTE": ("公司不签劳动合同，{ask}", "被公司无故辞退，不给经济补偿"),
    "REALTY.RENTAL": ("{loc}房东不退押金，{ask}", "租房合同纠纷，中介不退押金"),
    "REALTY.GROUPRENT": ("举报{loc}有群租房，一套房住了十几个人",),
    "REALTY.CERT": ("{loc}买房多年还办不下来房产证", "{loc}回迁房一直办不了房本，{ask}"),
    "TRAFFIC.BIKESHARE": ("{loc}地铁口共享单车乱停放堵路", "{loc}共享单车堆成山没人清理"),
    "TRAFFIC.CONGESTION": ("{loc}早晚高峰堵车严重，希望优化信号灯",), "TRAFFIC.SIGNAL": ("{loc}路口红绿灯坏了",),
    "TRAFFIC.UNLICENSED": ("{loc}无牌照电动三轮车拉客", "{loc}老年代步车乱停乱放"),
    "HEALTH.APPOINTMENT": ("医院专家号太难挂了", "网上挂号一直挂不上"),
    "EDU.ENROLL": ("咨询孩子今年入学需要准备什么材料", "{loc}学区划片不合理，孩子上学远"),
    "GOV.CONSULT": ("咨询居住证办理需要什么材料", "咨询公积金提取政策", "咨询新生儿医保怎么办理", "咨询养老金领取资格认证"),
    "GOV.SERVICE": ("在政务服务中心办事跑了好几次都没办成", "网上办事系统一直登录不上"),
    "SAFETY.DOGS": ("{loc}有人遛狗不拴绳，{ask}",), "SAFETY.FIRE": ("{loc}楼道堆满杂物堵住消防通道",),
}

THEME_RESULTS = {
    "MUNI.STREETLIGHT": ("已安排维修人员更换灯具，现已恢复照明", "经查为线路故障，已抢修完毕"),
    "UTIL.HEAT": ("已入户测温并排气调试，室温已达标", "已更换故障阀门，恢复正常供暖"),
    "HOUSING": ("已约谈物业公司，督促其整改", "已协调物业安排维修"),
    "ENV": ("已现场检查并责令整改，后续加强巡查", "已对相关单位立案处罚"),
    "PARKING": ("已联系交管部门加强巡查，违停车辆已挪走", "已协调增设临时停车位"),
    "CITY": ("已安排清运，现场已清理干净", "已现场执法，责令整改"),
    "GREEN": ("已安排园林工人清理修剪", "已完成喷水作业"),
    "LABOR": ("已约谈用人单位，督促支付工资", "已告知劳动仲裁途径"),
    "MARKET": ("已组织双方调解，商家同意退款", "已立案调查"),
}
RESULTS = ("已联系诉求人并现场核实，问题已处理", "已按诉求人要求处理完毕", "已向诉求人解释相关政策", "已协调相关部门处理")
NOTES = ("已电话联系诉求人，了解具体情况", "已联系诉求人，约定上门时间", "电话联系诉求人，说明处理安排", "已与诉求人沟通")
PROGRESS = ("已现场查看，正在协调相关部门", "维修材料正在采购中", "已制定整改方案，正在推进", "需多部门协调，正在处理中")
LATE_REASONS = ("涉及多个部门，协调时间较长", "需要采购材料，工期较长", "天气原因无法施工")
OBJECTIONS = ("该事项不属于我单位职责范围", "诉求地点不在我单位管辖区域内", "该道路路灯由其他单位维护")
ANSWERS = ("已向市民解答相关政策和办理流程", "已告知办理地点、所需材料和时间", "已告知咨询电话和网上办理渠道")
EXCLUSION_REASONS = ("同一诉求人短期内重复反映同一事项", "诉求明显超出法律政策规定", "恶意诉求，经核实不属实",
                     "诉求人要求的事项已通过其他法定途径处理")


def content(rng: random.Random, category: str, name_zh: str, loc: str) -> str:
    options = TEMPLATES.get(category)
    if options is None:
        options = (f"{{loc}}{name_zh.split('/')[0]}的问题{{dur}}，{{ask}}", f"反映{{loc}}{name_zh.split('/')[0]}问题，{{ask}}")
    text = rng.choice(options).format(loc=loc, dur=rng.choice(DURATIONS), ask=rng.choice(ASKS) or "谢谢")
    return text.rstrip("，") + "。"


def location_phrase(rng: random.Random, place: Place | None, district_name: str, address_text: str | None) -> str:
    if place is None:
        return district_name
    r = rng.random()
    if r < 0.35:
        return f"{place.district_name}{place.name}{address_text or ''}"
    if r < 0.6:
        return f"{place.name}{address_text or '某小区'}"
    if r < 0.8:
        return address_text or f"{place.name}某小区"
    return f"{place.district_name}{place.short}某小区"


def result_for(rng: random.Random, category: str) -> str:
    for prefix, options in THEME_RESULTS.items():
        if category.startswith(prefix):
            return rng.choice(options)
    return rng.choice(RESULTS)
