//! Word pools for synthetic (clearly fake) names, messages, places and browsers.

pub const FIRST_NAMES: [&str; 24] = [
    "Avery", "Blake", "Casey", "Dana", "Emery", "Finley", "Gray", "Harper", "Indigo", "Jordan",
    "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Taylor",
    "Umber", "Val", "Wren", "Yael",
];

pub const LAST_NAMES: [&str; 16] = [
    "Sampleton",
    "Testwood",
    "Mockridge",
    "Fakerson",
    "Stubbs",
    "Dummerly",
    "Placeholder",
    "Fixture",
    "Sandoval-Test",
    "Demoine",
    "Exampleby",
    "Lorem",
    "Ipsumov",
    "Probe",
    "Trialer",
    "Specimen",
];

pub const VISITOR_MSGS: [&str; 24] = [
    "Hi, I have a question about my order",
    "My package has not arrived yet, can you check?",
    "How do I reset my password?",
    "I was charged twice for the same subscription",
    "Is the blue model still in stock?",
    "Can I change the shipping address after ordering?",
    "The discount code SANDBOX10 does not work",
    "ok thanks",
    "Order number is SBX-000123",
    "I would like a refund please",
    "Does the warranty cover water damage?",
    "What are your opening hours?",
    "The app crashes when I open settings",
    "yes",
    "no, that did not help",
    "Can you send me an invoice with our VAT id?",
    "Great, that worked!",
    "How long does delivery to Canada take?",
    "I cannot log in since yesterday",
    "Where can I download the user manual?",
    "Is there a student discount?",
    "Please cancel my subscription",
    "hello? anyone there?",
    "Thank you so much for your help \u{1F44D}",
];

pub const AGENT_MSGS: [&str; 24] = [
    "Hi there! Thanks for reaching out, let me look into that.",
    "Could you share your order number, please?",
    "I have just sent a password reset link to your email.",
    "I can see the duplicate charge, I will refund it right away.",
    "Yes, that model is in stock and ships within 2 days.",
    "I have updated the shipping address for you.",
    "That code expired last week, but I applied a 10% credit instead.",
    "One moment please while I check with our warehouse.",
    "Your refund has been processed and should arrive in 5-7 business days.",
    "The warranty covers manufacturing defects only, sorry about that.",
    "We are open Monday to Friday, 9:00-17:00 (sandbox time).",
    "Could you try clearing the app cache and restarting?",
    "I have escalated this to our technical team.",
    "Is there anything else I can help you with?",
    "Here is the manual: https://help.sandbox-shop.example/manual.pdf",
    "Students get 15% off with a valid student email.",
    "Your subscription has been cancelled, effective end of the period.",
    "Delivery to Canada usually takes 5 business days.",
    "I have unlocked your account, please try again.",
    "Thanks for your patience!",
    "Let me transfer you to a colleague who can help with billing.",
    "Glad I could help. Have a great day!",
    "I created ticket #SBX-4411 for this issue.",
    "Sure, I just emailed the invoice to you.",
];

pub const CITIES: [(&str, &str, &str, &str); 12] = [
    ("Springfield", "Illinois", "US", "United States"),
    ("Portland", "Oregon", "US", "United States"),
    ("Toronto", "Ontario", "CA", "Canada"),
    ("Manchester", "England", "GB", "United Kingdom"),
    ("Lyon", "Auvergne-Rhone-Alpes", "FR", "France"),
    ("Leipzig", "Saxony", "DE", "Germany"),
    ("Porto", "Porto", "PT", "Portugal"),
    ("Melbourne", "Victoria", "AU", "Australia"),
    ("Osaka", "Osaka", "JP", "Japan"),
    ("Curitiba", "Parana", "BR", "Brazil"),
    ("Pune", "Maharashtra", "IN", "India"),
    ("Utrecht", "Utrecht", "NL", "Netherlands"),
];

pub const BROWSERS: [(&str, &str, &str); 6] = [
    (
        "Chrome",
        "Windows",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    ),
    (
        "Firefox",
        "Linux",
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    ),
    (
        "Safari",
        "Mac OS",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    ),
    (
        "Mobile Safari",
        "iOS",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    ),
    (
        "Chrome Mobile",
        "Android",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    ),
    (
        "Edge",
        "Windows",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    ),
];

pub const PAGES: [(&str, &str); 10] = [
    ("https://www.sandbox-shop.example/", "Sandbox Shop - Home"),
    (
        "https://www.sandbox-shop.example/pricing",
        "Pricing | Sandbox Shop",
    ),
    (
        "https://www.sandbox-shop.example/products/widget-blue",
        "Blue Widget | Sandbox Shop",
    ),
    ("https://www.sandbox-shop.example/cart", "Your cart"),
    ("https://www.sandbox-shop.example/checkout", "Checkout"),
    (
        "https://www.sandbox-shop.example/account/orders",
        "My orders",
    ),
    ("https://help.sandbox-shop.example/faq", "FAQ - Help Center"),
    (
        "https://help.sandbox-shop.example/returns",
        "Returns policy",
    ),
    (
        "https://www.sandbox-shop.example/blog/spring-sale",
        "Spring sale is here",
    ),
    ("https://www.sandbox-shop.example/contact", "Contact us"),
];

pub const REFERRERS: [&str; 4] = [
    "https://www.search-engine.example/?q=sandbox+shop",
    "https://social.example/posts/12345",
    "https://newsletter.sandbox-shop.example/2024-05",
    "",
];

pub const SEARCH_ENGINES: [(&str, &str); 3] = [
    ("Google", "sandbox shop widget"),
    ("Bing", "sandbox shop refund policy"),
    ("DuckDuckGo", "blue widget price"),
];

pub const TAGS: [&str; 10] = [
    "billing",
    "refund",
    "shipping",
    "vip",
    "bug_report",
    "goodbye_survey",
    "upsell",
    "password_reset",
    "warranty",
    "returns",
];

pub const COMMENTS: [&str; 6] = [
    "Very helpful, thanks!",
    "Took a while but solved",
    "Agent was friendly",
    "Did not solve my problem",
    "Fast and clear answers",
    "ok",
];

pub const OFFLINE_MSGS: [&str; 8] = [
    "Hi there! Please call me back about my order SBX-000981.",
    "Nobody was online, I need help with a refund.",
    "Can someone email me the price list for bulk orders?",
    "My account is locked, please help.",
    "Do you ship to Iceland?",
    "I'd like to change my delivery date to next week.",
    "The checkout page shows an error 500.",
    "Please send me the invoice for order SBX-000455.",
];

pub const BAN_REASONS: [&str; 4] = [
    "Spammer",
    "Abusive language",
    "Repeated fake orders",
    "Bot traffic",
];

pub const LEAVE_REASONS: [&str; 3] = ["user_left", "idle_timeout", "disconnected"];
