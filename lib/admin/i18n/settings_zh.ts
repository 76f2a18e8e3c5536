/**
 * Settings in Simplified Chinese: each setting's label and description (English comes from the
 * settings schema itself). `tests/i18n_test.ts` fails when a setting is missing here.
 *
 * @module
 */

/** Setting name -> [label, description]. */
export const ZH_SETTINGS: Readonly<Record<string, readonly [string, string]>> = {
  allowedTokens: [
    "允许的令牌",
    "网关接受的客户端令牌（Authorization: Bearer、x-goog-api-key 或 ?key=），每个至少 8 个字符。",
  ],
  trustedProxies: [
    "受信任的反向代理",
    "反向代理的 IP 地址或 CIDR 网段；它们的 X-Forwarded-For 用来确定客户端地址，限流和日志都使用该地址。",
  ],
  authFailuresPerMinute: [
    "每分钟允许的认证失败次数",
    "每个客户端地址每分钟允许的令牌校验失败次数；超过后该地址在这一分钟内直接得到 429，不再校验（0 = 不限）。",
  ],
  upstreamBaseUrl: ["上游地址", "Gemini 请求发往的地址。"],
  maxAttempts: ["最大尝试次数", "一个请求在放弃前最多尝试多少个密钥。"],
  requestTimeoutMs: ["请求超时（毫秒）", "等待上游返回第一个字节的时间，超时后换下一个密钥。"],
  maxBodyBytes: ["最大请求体（字节）", "允许的最大请求体；更大的请求得到 413。"],
  defaultCooldownMs: ["默认冷却时间（毫秒）", "429 未给出重试时间时的冷却时间。"],
  maxWaitMs: ["最长等待（毫秒）", "所有密钥都在冷却时，最多等待这么久让某个密钥空闲。"],
  transientBackoffMaxMs: ["最长错误退避（毫秒）", "持续返回 5xx 的密钥的最长退避时间。"],
  quotaWindowMs: ["配额窗口（毫秒）", "Google 每分钟配额窗口的长度（60000）；只有模拟时才设得更短。"],
  recheckIntervalMs: ["重新检查间隔（毫秒）", "停用和无权访问的密钥多久重新检查一次（0 = 从不）。"],
  allowPrivateImageHosts: [
    "允许内网图片地址",
    "允许 OpenAI 聊天提示中的图片 URL 指向本机或内网主机（有 SSRF 风险；默认关闭）。",
  ],
  logsEnabled: ["启用日志", "保留请求日志。"],
  webhookUrl: [
    "Webhook 地址",
    "运维通知的 Webhook（JSON POST，失败时退避重试）：密钥被停用、某个模型没有可用密钥、客户端令牌达到每日配额。留空 = 关闭。",
  ],
  prices: [
    "价格",
    "仪表盘费用估算使用的价格，按模型设置（精确 ID 或 前缀*，最长匹配优先），单位为你的货币 / 每百万输入和输出 token。留空 = 不估算。",
  ],
  logRetentionHours: ["日志保留（小时）", "日志条目保留多久。"],
  searchSuffix: [
    "-search 后缀",
    "接受以 -search 结尾的模型名：添加 Google 搜索接地（tools: [{googleSearch:{}}]）。",
  ],
  searchLinks: ["搜索来源链接", "在 OpenAI 路由上，为使用搜索的回答附上接地来源（标题 + 链接列表）。"],
  imageSuffix: [
    "-image 后缀",
    "对能输出图片的模型，接受以 -image 结尾的模型名（添加 responseModalities TEXT+IMAGE）。",
  ],
  imageOutputModels: [
    "可输出图片的模型",
    "在请求时可以输出图片的基础模型（精确 ID 或以 * 结尾的前缀）。ID 中包含 '-image' 的模型始终视为图片模型。",
  ],
  thinkingSuffixes: [
    "思考后缀",
    "接受以 -thinking（开启思考并返回思考内容）和 -nothinking（关闭或最少）结尾的模型名。",
  ],
  thinkingDefaults: [
    "默认思考配置",
    '客户端未发送时使用的 thinkingConfig，按模型前缀设置（最长前缀优先），例如 {"gemini-2.5-flash": {"thinkingBudget": 0}}。',
  ],
  aliases: [
    "模型别名",
    '客户端可以发送的模型名，映射到真实模型（可带后缀），例如 {"gpt-4o": "gemini-2.5-flash"}。',
  ],
  hiddenModels: ["隐藏的模型", "不出现在模型列表中的模型（精确 ID 或以 * 结尾的前缀）。仍然可以调用。"],
  listVariants: ["列出变体", "在模型列表中显示带后缀的变体（-search、-thinking、-nothinking、-image）。"],
  defaultSafetySettings: ["默认安全设置", "仅在客户端未发送时由网关添加的 safetySettings（null = 不添加）。"],
  codeExecutionModels: [
    "代码执行模型",
    "获得代码执行工具（{codeExecution:{}}）的模型，精确 ID 或 前缀*；请求中有函数声明时跳过（Gemini 不允许混用）。",
  ],
  urlContextModels: [
    "URL 上下文模型",
    "获得 URL 上下文工具（{urlContext:{}}）的模型，精确 ID 或 前缀*；请求中有函数声明时跳过。",
  ],
  smoother: ["平滑输出", "把较大的流式文本增量重新切成均匀输出的小块。"],
  smootherChunkChars: ["平滑块大小（字符）", "每个平滑文本块的目标大小（字符数）。"],
  smootherMaxDelayMs: ["平滑最大间隔（毫秒）", "平滑器在两块之间添加的最长停顿。"],
  smootherBudgetMs: ["平滑总预算（毫秒）", "平滑器对一个回答最多添加的总延迟；超过后立即发送剩余内容。"],
  keepAliveMs: ["保活间隔（毫秒）", "无输出达到这么多毫秒后发送 SSE 保活（注释或空块）（0 = 关闭）。"],
  ttsModel: ["TTS 模型", "OpenAI 语音模型（tts-1、gpt-4o-mini-tts）使用的 Gemini TTS 模型。"],
  ttsHdModel: ["高清 TTS 模型", "tts-1-hd 使用的 Gemini TTS 模型。"],
  proxies: [
    "上游代理",
    "上游 HTTP 代理（http、https、socks5）。每个 API 密钥固定使用一个代理；失败的代理在 proxyDownMs 内被跳过。",
  ],
  proxyDownMs: ["代理跳过时间（毫秒）", "失败的代理被跳过多久。"],
  port: ["端口", "监听的端口。"],
  host: ["监听地址", "监听的网络接口；默认 0.0.0.0 表示所有接口（127.0.0.1 表示只接受本机）。"],
  geminiApiKeys: ["Gemini API 密钥", "启动时加入密钥池的 Gemini API 密钥（每个都是 AIza 加 35 个字符）。"],
  adminToken: ["管理令牌", "管理面板的令牌（至少 12 个字符）；未设置时在首次启动时生成。"],
  kvPath: ["KV 路径", "Deno KV 的位置：文件路径、:memory: 或 KV Connect URL。"],
  shutdownGraceMs: ["关闭宽限期（毫秒）", "收到 SIGTERM 后，进行中的流还可以继续多久。"],
  syncIntervalMs: ["同步间隔（毫秒）", "多久轮询一次 KV，以获取其他进程做的修改。"],
};
