"""Word lists the generator draws from: geography, names, catalogue words, phrases.

Kept apart from the code that samples them so the logic modules stay readable and so the
flavour of the data (cities, brands, teams, comments) can be changed in one place. All
brands, e-mail domains and street-level details are fictional; e-mail domains use the
``.example`` top-level domain reserved by RFC 2606 so no generated address can be real.
Tuples, not lists: the order is part of the determinism contract (indices are drawn).
"""

from __future__ import annotations

COUNTRY = "US"

#: region -> ((city, 3-digit ZIP prefix, area code, relative population), ...)
GEOGRAPHY: tuple[tuple[str, tuple[tuple[str, str, int, float], ...]], ...] = (
    ("North", (
        ("Minneapolis", "554", 612, 1.0), ("Milwaukee", "532", 414, 0.7),
        ("Detroit", "482", 313, 0.9), ("Fargo", "581", 701, 0.3),
    )),
    ("South", (
        ("Houston", "770", 713, 1.4), ("Atlanta", "303", 404, 1.1),
        ("Miami", "331", 305, 1.0), ("Nashville", "372", 615, 0.6),
        ("New Orleans", "701", 504, 0.5),
    )),
    ("East", (
        ("New York", "100", 212, 2.0), ("Boston", "021", 617, 0.9),
        ("Philadelphia", "191", 215, 1.0), ("Baltimore", "212", 410, 0.6),
    )),
    ("West", (
        ("Los Angeles", "900", 213, 1.8), ("Seattle", "981", 206, 0.9),
        ("San Francisco", "941", 415, 0.8), ("Portland", "972", 503, 0.6),
        ("Phoenix", "850", 602, 0.9),
    )),
    ("Central", (
        ("Chicago", "606", 312, 1.5), ("Denver", "802", 303, 0.8),
        ("Kansas City", "641", 816, 0.5), ("St. Louis", "631", 314, 0.5),
        ("Omaha", "681", 402, 0.3),
    )),
)

STORE_SUFFIXES = ("Downtown", "Mall", "Riverside", "Outlet", "Uptown", "Plaza", "Harbor",
                  "Park", "Station", "Crossing", "Galleria", "Market")

FEMALE_NAMES = (
    "Emma", "Olivia", "Ava", "Sophia", "Isabella", "Mia", "Charlotte", "Amelia", "Harper",
    "Evelyn", "Abigail", "Emily", "Elizabeth", "Sofia", "Avery", "Ella", "Scarlett", "Grace",
    "Chloe", "Victoria", "Riley", "Aria", "Lily", "Zoey", "Nora", "Hannah", "Layla", "Zoe",
    "Maya", "Leah", "Sarah", "Anna", "Julia", "Laura", "Maria", "Jessica", "Ashley", "Megan",
    "Rachel", "Nicole", "Fatima", "Aisha", "Mei", "Yuki", "Priya", "Ana", "Lucia", "Camila",
    "Valentina", "Ingrid", "Keisha", "Tamika", "Rosa", "Linh", "Hana", "Claire", "Naomi",
)
MALE_NAMES = (
    "Liam", "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry",
    "Alexander", "Mason", "Michael", "Ethan", "Daniel", "Jacob", "Logan", "Jackson", "Levi",
    "Sebastian", "Mateo", "Jack", "Owen", "Theodore", "Aiden", "Samuel", "Joseph", "John",
    "David", "Wyatt", "Matthew", "Luke", "Carlos", "Jose", "Juan", "Wei", "Hiroshi", "Raj",
    "Arjun", "Omar", "Ahmed", "Kwame", "Darnell", "Tyrone", "Andre", "Marcus", "Chris",
    "Kevin", "Brian", "Jason", "Ryan", "Eric", "Minh", "Diego", "Pedro", "Lars", "Sven",
)
NEUTRAL_NAMES = (
    "Alex", "Jordan", "Taylor", "Morgan", "Casey", "Jamie", "Riley", "Quinn", "Avery",
    "Skyler", "Rowan", "Sage", "Robin", "Charlie", "Emerson", "Finley",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker",
    "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips",
    "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart",
    "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
    "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
    "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz",
    "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross",
    "Foster", "Jimenez", "Chen", "Wang", "Singh", "Khan", "Okafor", "Mensah", "Tanaka",
    "Yamamoto", "Novak", "Kowalski", "Larsen", "Olsen", "Schmidt", "Müller", "O'Brien",
    "Dubois", "Rossi", "Silva", "Costa", "Haddad", "Cohen", "Levy", "Ivanova", "Park",
)
EMAIL_DOMAINS = ("mailbox.example", "inbox.example", "post.example", "webmail.example",
                 "example.com", "example.net", "example.org")
EMAIL_DOMAIN_WEIGHTS = (0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.07)

OCCUPATIONS = (
    "student", "teacher", "nurse", "engineer", "software developer", "sales associate",
    "manager", "accountant", "designer", "driver", "chef", "retired", "self-employed",
    "homemaker", "doctor", "lawyer", "technician", "consultant", "marketing specialist",
    "construction worker",
)
INCOME_BANDS = ("<25k", "25-50k", "50-75k", "75-100k", "100-150k", "150k+")

#: category, share of catalogue and of demand, median price, price log-sd, return factor
CATEGORIES: tuple[tuple[str, float, float, float, float], ...] = (
    ("shoes", 0.13, 85.0, 0.45, 1.6),
    ("apparel", 0.18, 38.0, 0.50, 1.8),
    ("outdoor", 0.07, 95.0, 0.60, 0.9),
    ("electronics", 0.09, 240.0, 0.75, 1.0),
    ("home", 0.10, 55.0, 0.55, 0.8),
    ("beauty", 0.09, 22.0, 0.45, 0.5),
    ("toys", 0.06, 28.0, 0.50, 0.7),
    ("sports", 0.11, 45.0, 0.55, 1.0),
    ("grocery", 0.12, 7.0, 0.50, 0.1),
    ("baby", 0.05, 30.0, 0.50, 0.8),
)
CATEGORY_NAMES = tuple(c[0] for c in CATEGORIES)
#: categories where fans buy their team's merchandise
TEAM_CATEGORIES = ("apparel", "sports", "shoes")

BRANDS: dict[str, tuple[str, ...]] = {
    "shoes": ("Stridewell", "Apex Run", "Cobble & Co", "Fleetfoot", "Urban Sole"),
    "apparel": ("Northline", "Loom & Thread", "Basicwear", "Vanta", "Coastal Knit"),
    "outdoor": ("Ridgeback", "Timberline Gear", "Summit Supply", "Trailhead"),
    "electronics": ("Voltix", "Nimbus", "Arcwave", "Pixelon", "Sonora"),
    "home": ("Hearthstone", "Nestwell", "Casa Lumen", "Oakridge Home"),
    "beauty": ("Lumiere Lab", "Glowry", "Pure Petal", "Velvetine"),
    "toys": ("Playnest", "Brickbright", "Tiny Titans"),
    "sports": ("ProLeague", "Fieldcraft", "Courtside", "Pacer"),
    "grocery": ("Green Basket", "Daily Harvest", "Pantry Co"),
    "baby": ("Little Sprout", "Cuddle Co", "BabyNest"),
}
PRODUCT_NOUNS: dict[str, tuple[str, ...]] = {
    "shoes": ("Running Shoe", "Trail Shoe", "Sneaker", "Leather Boot", "Sandal", "Loafer",
              "Basketball Shoe"),
    "apparel": ("T-Shirt", "Hoodie", "Jeans", "Rain Jacket", "Dress", "Polo Shirt", "Sweater",
                "Leggings"),
    "outdoor": ("Tent", "Backpack", "Sleeping Bag", "Camping Stove", "Hiking Poles",
                "Headlamp"),
    "electronics": ("Headphones", "Smartwatch", "Tablet", "Bluetooth Speaker", "Game Console",
                    "Laptop", "Phone Charger"),
    "home": ("Cookware Set", "Throw Blanket", "Table Lamp", "Coffee Maker", "Towel Set",
             "Storage Box"),
    "beauty": ("Face Serum", "Moisturiser", "Lipstick", "Shampoo", "Perfume", "Sunscreen"),
    "toys": ("Building Set", "Puzzle", "Plush Toy", "Board Game", "RC Car", "Doll House"),
    "sports": ("Basketball", "Yoga Mat", "Dumbbell Set", "Tennis Racket", "Baseball Glove",
               "Water Bottle"),
    "grocery": ("Coffee Beans", "Granola", "Olive Oil", "Dark Chocolate", "Protein Bar",
                "Green Tea"),
    "baby": ("Stroller", "Baby Monitor", "Onesie Pack", "Diaper Bag", "Teether",
             "Baby Carrier"),
}
ADJECTIVES = ("Classic", "Pro", "Lite", "Ultra", "Essential", "Everyday", "Deluxe", "Sport",
              "Urban", "Original", "Active", "Signature")
#: team, sport (also the interest fans have), popularity
TEAMS: tuple[tuple[str, str, float], ...] = (
    ("Lakers", "basketball", 1.4), ("Celtics", "basketball", 1.1),
    ("Warriors", "basketball", 1.0), ("Bulls", "basketball", 0.8),
    ("Knicks", "basketball", 0.8), ("Yankees", "baseball", 1.3),
    ("Dodgers", "baseball", 1.0), ("Red Sox", "baseball", 0.8), ("Cubs", "baseball", 0.6),
    ("Cowboys", "football", 1.1), ("Packers", "football", 0.7), ("Patriots", "football", 0.7),
)
TEAM_NAMES = tuple(t[0] for t in TEAMS)
TEAM_ITEMS: dict[str, tuple[str, ...]] = {
    "apparel": ("Home Jersey", "Away Jersey", "Cap", "Hoodie", "Fan T-Shirt"),
    "sports": ("Fan Scarf", "Signed Ball", "Water Bottle", "Pennant"),
    "shoes": ("Edition Sneaker", "Slides"),
}

INTERESTS = ("outdoor", "fitness", "fashion", "tech", "home", "gaming", "music", "travel",
             "family", "basketball", "baseball", "football", "cooking", "beauty", "reading",
             "pets")
#: interests a favourite category suggests
CATEGORY_INTERESTS: dict[str, tuple[str, ...]] = {
    "shoes": ("fitness", "fashion"), "apparel": ("fashion", "music"),
    "outdoor": ("outdoor", "travel"), "electronics": ("tech", "gaming"),
    "home": ("home", "cooking"), "beauty": ("beauty", "fashion"),
    "toys": ("family", "gaming"), "sports": ("fitness", "outdoor"),
    "grocery": ("cooking", "home"), "baby": ("family", "home"),
}
EXTRA_INTERESTS = ("music", "travel", "reading", "pets", "gaming", "outdoor")

SIZES = ("XS", "S", "M", "L", "XL", "XXL")
SIZE_WEIGHTS = (0.05, 0.2, 0.32, 0.25, 0.13, 0.05)
NEWSLETTER_FREQUENCIES = ("weekly", "monthly", "only_sales", "never")
CONTACT_PREFERENCES = ("email", "sms", "app", "none")

SEARCH_QUERIES: dict[str, tuple[str, ...]] = {
    "shoes": ("running shoes", "sneakers", "leather boots", "sandals", "trail shoes"),
    "apparel": ("hoodie", "rain jacket", "jeans", "summer dress", "t-shirt"),
    "outdoor": ("tent", "backpack", "sleeping bag", "camping stove"),
    "electronics": ("headphones", "smartwatch", "bluetooth speaker", "laptop", "charger"),
    "home": ("coffee maker", "blanket", "lamp", "cookware"),
    "beauty": ("face serum", "sunscreen", "shampoo", "perfume"),
    "toys": ("building set", "board game", "puzzle", "plush"),
    "sports": ("yoga mat", "dumbbells", "tennis racket", "basketball"),
    "grocery": ("coffee beans", "protein bar", "olive oil", "green tea"),
    "baby": ("stroller", "baby monitor", "diaper bag", "onesie"),
}
LANDING_PAGES = ("home", "category", "deals", "new_arrivals")
SUPPORT_REASONS = ("product_question", "order_status", "account", "billing", "complaint")
RETURN_REASONS = ("return", "wrong_size", "damaged_item")
DELIVERY_REASONS = ("late_delivery", "missing_parcel")
DELIVERY_FAILURES = ("address_not_found", "carrier_delay", "recipient_absent", "damaged_in_transit")
REFERRAL_MEDIA = ("link", "code", "social")

#: survey comments by sentiment; picked for some answers
COMMENTS: dict[str, tuple[str, ...]] = {
    "positive": (
        "Great service, will shop again.", "Fast delivery, thanks!",
        "Staff in store were really helpful.", "Love the app, easy to order.",
        "Good quality for the price.", "Always find what I need.",
    ),
    "neutral": (
        "It was fine.", "Delivery took a bit long.", "Prices could be better.",
        "Website is ok but search is slow.", "Too many emails.",
    ),
    "negative": (
        "Parcel never arrived.", "Nobody answered the phone.",
        "Return took weeks to be refunded.", "Item was damaged, very disappointed.",
        "Had to contact support three times.", "Checkout kept failing.",
    ),
}
