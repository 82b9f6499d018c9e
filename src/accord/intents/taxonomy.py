"""The built-in taxonomy of consumer categories that intents name and brands subscribe to."""

from __future__ import annotations

# slug: (name, group). Slugs are stable: intents and subscriptions store them.
CATEGORIES: dict[str, tuple[str, str]] = {
    "furniture": ("Furniture", "Home"),
    "appliances": ("Household appliances", "Home"),
    "home-improvement": ("Home improvement and DIY", "Home"),
    "garden": ("Garden and outdoor living", "Home"),
    "kitchenware": ("Kitchen and dining", "Home"),
    "bedding": ("Beds, mattresses and bedding", "Home"),
    "lighting": ("Lighting", "Home"),
    "home-services": ("Cleaning, repairs and other home services", "Home"),
    "moving": ("Moving and storage", "Home"),
    "phones": ("Mobile phones", "Electronics"),
    "computers": ("Computers and tablets", "Electronics"),
    "tv-audio": ("TV, audio and hi-fi", "Electronics"),
    "cameras": ("Cameras and photography", "Electronics"),
    "gaming": ("Video games and consoles", "Electronics"),
    "smart-home": ("Smart home", "Electronics"),
    "wearables": ("Watches and wearables", "Electronics"),
    "cars": ("Cars", "Getting around"),
    "bicycles": ("Bicycles and e-bikes", "Getting around"),
    "motorcycles": ("Motorcycles and scooters", "Getting around"),
    "vehicle-services": ("Vehicle servicing, parts and tyres", "Getting around"),
    "flights": ("Flights", "Travel"),
    "accommodation": ("Hotels and holiday rentals", "Travel"),
    "holidays": ("Package holidays and tours", "Travel"),
    "car-rental": ("Car rental", "Travel"),
    "rail-coach": ("Rail and coach travel", "Travel"),
    "clothing": ("Clothing", "Fashion"),
    "shoes": ("Shoes", "Fashion"),
    "jewellery": ("Jewellery and accessories", "Fashion"),
    "sportswear": ("Sportswear", "Fashion"),
    "beauty": ("Beauty and personal care", "Health and beauty"),
    "fitness": ("Gyms and fitness", "Health and beauty"),
    "eyewear": ("Glasses and contact lenses", "Health and beauty"),
    "groceries": ("Groceries", "Food and drink"),
    "wine-spirits": ("Wine, beer and spirits", "Food and drink"),
    "restaurants": ("Restaurants and catering", "Food and drink"),
    "mortgages": ("Mortgages", "Money"),
    "loans": ("Loans and credit cards", "Money"),
    "insurance": ("Insurance", "Money"),
    "savings": ("Savings and investments", "Money"),
    "broadband": ("Broadband and TV subscriptions", "Utilities"),
    "mobile-plans": ("Mobile plans", "Utilities"),
    "energy": ("Gas and electricity", "Utilities"),
    "education": ("Courses and tutoring", "Services"),
    "childcare": ("Childcare", "Services"),
    "legal-financial-advice": ("Legal and financial advice", "Services"),
    "pets": ("Pet food, supplies and care", "Services"),
    "books": ("Books", "Leisure"),
    "music": ("Music and instruments", "Leisure"),
    "tickets": ("Concert, theatre and event tickets", "Leisure"),
    "toys": ("Toys and games", "Leisure"),
    "outdoor-sports": ("Outdoor and sports equipment", "Leisure"),
    "hobbies": ("Arts, crafts and hobbies", "Leisure"),
}


def name(slug: str) -> str:
    return CATEGORIES[slug][0] if slug in CATEGORIES else slug


def grouped() -> list[tuple[str, list[tuple[str, str]]]]:
    """(group, [(slug, name), ...]) in the taxonomy's order."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for slug, (label, group) in CATEGORIES.items():
        groups.setdefault(group, []).append((slug, label))
    return list(groups.items())
