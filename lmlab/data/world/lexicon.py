"""The lexicon of the embedded world: real Spanish words with gender, number and English glosses.

Every entry is plain data (tuples of strings), so the grammar, the task generators and the tests
read the same facts. Spelling follows the RAE (accents, ñ, plurals such as `lechón/lechones`,
`actriz/actrices`). Words are grouped by topic so that topic documents and the language model's
long-range topic dependencies come from one place.

Notable choices:
- Each noun carries its gender ("m"/"f"), its plural and its English singular/plural.
- Person nouns come in masculine/feminine pairs (the masculino:femenino analogy), animals in
  adult/young pairs (adulto:cría), countries with capital and language (país:capital, país:idioma).
- Forms that would make the grammar ambiguous (one surface word in two roles at the same position)
  are avoided; `grammar.Table` checks it when the tables are built.
"""

from __future__ import annotations

from typing import NamedTuple

TOPICS: tuple[str, ...] = ("deportes", "cocina", "viajes", "música", "ciencia", "familia")
TOPICS_EN: dict[str, str] = {"deportes": "sports", "cocina": "cooking", "viajes": "travel",
                             "música": "music", "ciencia": "science", "familia": "family"}


class Noun(NamedTuple):
    sg: str
    pl: str
    gender: str  # "m" | "f"
    en: str
    en_pl: str
    topic: str


class PersonPair(NamedTuple):
    m_sg: str
    m_pl: str
    f_sg: str
    f_pl: str
    en_m: str
    en_f: str
    en_pl: str
    topic: str


class AnimalPair(NamedTuple):
    adult: Noun
    young: Noun
    habitat: str  # a place noun (see HABITATS)
    sound: tuple[str, str, str]  # what the species does: 3rd person sg, pl, English ("muge", "mugen", "moos")


class Verb(NamedTuple):
    sg: str   # 3rd person singular present
    pl: str   # 3rd person plural present
    en: str   # English 3rd person singular
    en_pl: str
    topic: str


class Adjective(NamedTuple):
    m_sg: str
    f_sg: str
    m_pl: str
    f_pl: str
    en: str

    def form(self, gender: str, number: str) -> str:
        return {("m", "sg"): self.m_sg, ("f", "sg"): self.f_sg,
                ("m", "pl"): self.m_pl, ("f", "pl"): self.f_pl}[gender, number]


class Country(NamedTuple):
    name: str
    capital: str
    language: str
    en: str
    capital_en: str
    language_en: str


def _adj(stem: str, en: str) -> Adjective:
    """Regular -o/-a adjective: alto, alta, altos, altas."""
    return Adjective(stem + "o", stem + "a", stem + "os", stem + "as", en)


def _adj_inv(sg: str, pl: str, en: str) -> Adjective:
    """Adjective with one form per number: joven/jóvenes, azul/azules."""
    return Adjective(sg, sg, pl, pl, en)


PERSONS: tuple[PersonPair, ...] = (
    # familia (also the classic analogy words)
    PersonPair("hombre", "hombres", "mujer", "mujeres", "man", "woman", "people", "familia"),
    PersonPair("rey", "reyes", "reina", "reinas", "king", "queen", "monarchs", "familia"),
    PersonPair("padre", "padres", "madre", "madres", "father", "mother", "parents", "familia"),
    PersonPair("hijo", "hijos", "hija", "hijas", "son", "daughter", "children", "familia"),
    PersonPair("hermano", "hermanos", "hermana", "hermanas", "brother", "sister", "siblings", "familia"),
    PersonPair("abuelo", "abuelos", "abuela", "abuelas", "grandfather", "grandmother", "grandparents", "familia"),
    PersonPair("niño", "niños", "niña", "niñas", "boy", "girl", "children", "familia"),
    PersonPair("tío", "tíos", "tía", "tías", "uncle", "aunt", "relatives", "familia"),
    PersonPair("príncipe", "príncipes", "princesa", "princesas", "prince", "princess", "royals", "familia"),
    PersonPair("actor", "actores", "actriz", "actrices", "actor", "actress", "actors", "familia"),
    # deportes
    PersonPair("jugador", "jugadores", "jugadora", "jugadoras", "player", "player", "players", "deportes"),
    PersonPair("entrenador", "entrenadores", "entrenadora", "entrenadoras", "coach", "coach", "coaches", "deportes"),
    PersonPair("nadador", "nadadores", "nadadora", "nadadoras", "swimmer", "swimmer", "swimmers", "deportes"),
    PersonPair("corredor", "corredores", "corredora", "corredoras", "runner", "runner", "runners", "deportes"),
    # cocina
    PersonPair("cocinero", "cocineros", "cocinera", "cocineras", "cook", "cook", "cooks", "cocina"),
    PersonPair("panadero", "panaderos", "panadera", "panaderas", "baker", "baker", "bakers", "cocina"),
    PersonPair("camarero", "camareros", "camarera", "camareras", "waiter", "waitress", "waiters", "cocina"),
    PersonPair("pastelero", "pasteleros", "pastelera", "pasteleras", "pastry chef", "pastry chef", "pastry chefs", "cocina"),
    # viajes
    PersonPair("viajero", "viajeros", "viajera", "viajeras", "traveller", "traveller", "travellers", "viajes"),
    PersonPair("conductor", "conductores", "conductora", "conductoras", "driver", "driver", "drivers", "viajes"),
    PersonPair("marinero", "marineros", "marinera", "marineras", "sailor", "sailor", "sailors", "viajes"),
    PersonPair("azafato", "azafatos", "azafata", "azafatas", "flight attendant", "flight attendant", "flight attendants", "viajes"),
    # música
    PersonPair("bailarín", "bailarines", "bailarina", "bailarinas", "dancer", "dancer", "dancers", "música"),
    PersonPair("compositor", "compositores", "compositora", "compositoras", "composer", "composer", "composers", "música"),
    PersonPair("director", "directores", "directora", "directoras", "conductor", "conductor", "conductors", "música"),
    PersonPair("cantaor", "cantaores", "cantaora", "cantaoras", "flamenco singer", "flamenco singer", "flamenco singers", "música"),
    # ciencia
    PersonPair("científico", "científicos", "científica", "científicas", "scientist", "scientist", "scientists", "ciencia"),
    PersonPair("investigador", "investigadores", "investigadora", "investigadoras", "researcher", "researcher", "researchers", "ciencia"),
    PersonPair("profesor", "profesores", "profesora", "profesoras", "teacher", "teacher", "teachers", "ciencia"),
    PersonPair("médico", "médicos", "médica", "médicas", "doctor", "doctor", "doctors", "ciencia"),
    PersonPair("biólogo", "biólogos", "bióloga", "biólogas", "biologist", "biologist", "biologists", "ciencia"),
    PersonPair("ingeniero", "ingenieros", "ingeniera", "ingenieras", "engineer", "engineer", "engineers", "ciencia"),
)

HABITATS: dict[str, Noun] = {n.sg: n for n in (
    Noun("granja", "granjas", "f", "farm", "farms", "familia"),
    Noun("campo", "campos", "m", "countryside", "fields", "familia"),
    Noun("bosque", "bosques", "m", "forest", "forests", "familia"),
    Noun("río", "ríos", "m", "river", "rivers", "familia"),
    Noun("mar", "mares", "m", "sea", "seas", "familia"),
    Noun("jardín", "jardines", "m", "garden", "gardens", "familia"),
    Noun("sabana", "sabanas", "f", "savannah", "savannahs", "familia"),
)}

ANIMALS: tuple[AnimalPair, ...] = tuple(
    AnimalPair(Noun(a, ap, ag, ae, aep, "familia"), Noun(y, yp, yg, ye, yep, "familia"), h, sound)
    for a, ap, ag, ae, aep, y, yp, yg, ye, yep, h, sound in (
        ("vaca", "vacas", "f", "cow", "cows", "ternero", "terneros", "m", "calf", "calves", "granja",
         ("muge", "mugen", "moos")),
        ("perro", "perros", "m", "dog", "dogs", "cachorro", "cachorros", "m", "puppy", "puppies", "jardín",
         ("ladra", "ladran", "barks")),
        ("gallina", "gallinas", "f", "hen", "hens", "pollito", "pollitos", "m", "chick", "chicks", "granja",
         ("cacarea", "cacarean", "clucks")),
        ("oveja", "ovejas", "f", "sheep", "sheep", "cordero", "corderos", "m", "lamb", "lambs", "campo",
         ("bala", "balan", "bleats")),
        ("caballo", "caballos", "m", "horse", "horses", "potro", "potros", "m", "foal", "foals", "campo",
         ("relincha", "relinchan", "neighs")),
        ("gato", "gatos", "m", "cat", "cats", "gatito", "gatitos", "m", "kitten", "kittens", "jardín",
         ("maúlla", "maúllan", "meows")),
        ("cerdo", "cerdos", "m", "pig", "pigs", "lechón", "lechones", "m", "piglet", "piglets", "granja",
         ("gruñe", "gruñen", "grunts")),
        ("cabra", "cabras", "f", "goat", "goats", "cabrito", "cabritos", "m", "kid", "kids", "campo",
         ("salta", "saltan", "jumps")),
        ("pato", "patos", "m", "duck", "ducks", "patito", "patitos", "m", "duckling", "ducklings", "río",
         ("grazna", "graznan", "quacks")),
        ("rana", "ranas", "f", "frog", "frogs", "renacuajo", "renacuajos", "m", "tadpole", "tadpoles", "río",
         ("croa", "croan", "croaks")),
        ("león", "leones", "m", "lion", "lions", "leoncillo", "leoncillos", "m", "lion cub", "lion cubs",
         "sabana", ("ruge", "rugen", "roars")),
        ("oso", "osos", "m", "bear", "bears", "osezno", "oseznos", "m", "cub", "cubs", "bosque",
         ("pesca", "pescan", "fishes")),
        ("ciervo", "ciervos", "m", "deer", "deer", "cervatillo", "cervatillos", "m", "fawn", "fawns", "bosque",
         ("corre", "corren", "runs")),
        ("ballena", "ballenas", "f", "whale", "whales", "ballenato", "ballenatos", "m", "whale calf",
         "whale calves", "mar", ("nada", "nadan", "swims")),
    ))

# What an object is made of or for, in "la sopa de verduras": one per object, the same in both
# numbers (the object's own context for word vectors), with the English compound modifier.
COMPLEMENTS: dict[str, tuple[str, str]] = {
    "balón": ("fútbol", "football"),
    "partido": ("tenis", "tennis"),
    "carrera": ("relevos", "relay"),
    "medalla": ("oro", "gold"),
    "raqueta": ("madera", "wooden"),
    "bicicleta": ("montaña", "mountain"),
    "sopa": ("verduras", "vegetable"),
    "pan": ("maíz", "corn"),
    "tarta": ("chocolate", "chocolate"),
    "paella": ("marisco", "seafood"),
    "ensalada": ("frutas", "fruit"),
    "tortilla": ("patatas", "potato"),
    "queso": ("bola", "round"),
    "maleta": ("cuero", "leather"),
    "billete": ("ida", "one-way"),
    "mapa": ("carreteras", "road"),
    "tren": ("cercanías", "commuter"),
    "avión": ("papel", "paper"),
    "barco": ("vela", "sailing"),
    "pasaporte": ("emergencia", "emergency"),
    "canción": ("amor", "love"),
    "guitarra": ("cedro", "cedar"),
    "piano": ("cola", "grand"),
    "concierto": ("jazz", "jazz"),
    "disco": ("vinilo", "vinyl"),
    "violín": ("arce", "maple"),
    "melodía": ("flauta", "flute"),
    "experimento": ("física", "physics"),
    "estrella": ("neutrones", "neutron"),
    "planeta": ("hielo", "ice"),
    "microscopio": ("barrido", "scanning"),
    "fórmula": ("Newton", "Newton's"),
    "teoría": ("cuerdas", "string"),
    "célula": ("levadura", "yeast"),
    "casa": ("piedra", "stone"),
    "carta": ("recomendación", "recommendation"),
    "regalo": ("cumpleaños", "birthday"),
    "flor": ("loto", "lotus"),
    "coche": ("policía", "police"),
    "libro": ("cuentos", "story"),
    "foto": ("boda", "wedding"),
}

# Objects: what people of each topic do things with (direct objects).
OBJECTS: tuple[Noun, ...] = tuple(Noun(*row) for row in (
    ("balón", "balones", "m", "ball", "balls", "deportes"),
    ("partido", "partidos", "m", "match", "matches", "deportes"),
    ("carrera", "carreras", "f", "race", "races", "deportes"),
    ("medalla", "medallas", "f", "medal", "medals", "deportes"),
    ("raqueta", "raquetas", "f", "racket", "rackets", "deportes"),
    ("bicicleta", "bicicletas", "f", "bicycle", "bicycles", "deportes"),
    ("sopa", "sopas", "f", "soup", "soups", "cocina"),
    ("pan", "panes", "m", "bread", "loaves", "cocina"),
    ("tarta", "tartas", "f", "cake", "cakes", "cocina"),
    ("paella", "paellas", "f", "paella", "paellas", "cocina"),
    ("ensalada", "ensaladas", "f", "salad", "salads", "cocina"),
    ("tortilla", "tortillas", "f", "omelette", "omelettes", "cocina"),
    ("queso", "quesos", "m", "cheese", "cheeses", "cocina"),
    ("maleta", "maletas", "f", "suitcase", "suitcases", "viajes"),
    ("billete", "billetes", "m", "ticket", "tickets", "viajes"),
    ("mapa", "mapas", "m", "map", "maps", "viajes"),
    ("tren", "trenes", "m", "train", "trains", "viajes"),
    ("avión", "aviones", "m", "plane", "planes", "viajes"),
    ("barco", "barcos", "m", "boat", "boats", "viajes"),
    ("pasaporte", "pasaportes", "m", "passport", "passports", "viajes"),
    ("canción", "canciones", "f", "song", "songs", "música"),
    ("guitarra", "guitarras", "f", "guitar", "guitars", "música"),
    ("piano", "pianos", "m", "piano", "pianos", "música"),
    ("concierto", "conciertos", "m", "concert", "concerts", "música"),
    ("disco", "discos", "m", "record", "records", "música"),
    ("violín", "violines", "m", "violin", "violins", "música"),
    ("melodía", "melodías", "f", "melody", "melodies", "música"),
    ("experimento", "experimentos", "m", "experiment", "experiments", "ciencia"),
    ("estrella", "estrellas", "f", "star", "stars", "ciencia"),
    ("planeta", "planetas", "m", "planet", "planets", "ciencia"),
    ("microscopio", "microscopios", "m", "microscope", "microscopes", "ciencia"),
    ("fórmula", "fórmulas", "f", "formula", "formulas", "ciencia"),
    ("teoría", "teorías", "f", "theory", "theories", "ciencia"),
    ("célula", "células", "f", "cell", "cells", "ciencia"),
    ("casa", "casas", "f", "house", "houses", "familia"),
    ("carta", "cartas", "f", "letter", "letters", "familia"),
    ("regalo", "regalos", "m", "present", "presents", "familia"),
    ("flor", "flores", "f", "flower", "flowers", "familia"),
    ("coche", "coches", "m", "car", "cars", "familia"),
    ("libro", "libros", "m", "book", "books", "familia"),
    ("foto", "fotos", "f", "photo", "photos", "familia"),
))

# Verbs by topic; the i-th verb of a topic prefers the i-th object of that topic ("prepara la sopa").
VERBS: tuple[Verb, ...] = tuple(Verb(*row) for row in (
    ("lanza", "lanzan", "throws", "throw", "deportes"),
    ("juega", "juegan", "plays", "play", "deportes"),
    ("gana", "ganan", "wins", "win", "deportes"),
    ("celebra", "celebran", "celebrates", "celebrate", "deportes"),
    ("agarra", "agarran", "grabs", "grab", "deportes"),
    ("monta", "montan", "rides", "ride", "deportes"),
    ("entrena", "entrenan", "trains", "train", "deportes"),
    ("prepara", "preparan", "prepares", "prepare", "cocina"),
    ("corta", "cortan", "cuts", "cut", "cocina"),
    ("hornea", "hornean", "bakes", "bake", "cocina"),
    ("cocina", "cocinan", "cooks", "cook", "cocina"),
    ("sirve", "sirven", "serves", "serve", "cocina"),
    ("prueba", "prueban", "tastes", "taste", "cocina"),
    ("come", "comen", "eats", "eat", "cocina"),
    ("lleva", "llevan", "carries", "carry", "viajes"),
    ("reserva", "reservan", "books", "book", "viajes"),
    ("consulta", "consultan", "checks", "check", "viajes"),
    ("espera", "esperan", "waits for", "wait for", "viajes"),
    ("toma", "toman", "takes", "take", "viajes"),
    ("pierde", "pierden", "misses", "miss", "viajes"),
    ("enseña", "enseñan", "shows", "show", "viajes"),
    ("canta", "cantan", "sings", "sing", "música"),
    ("toca", "tocan", "plays", "play", "música"),
    ("afina", "afinan", "tunes", "tune", "música"),
    ("escucha", "escuchan", "listens to", "listen to", "música"),
    ("graba", "graban", "records", "record", "música"),
    ("limpia", "limpian", "cleans", "clean", "música"),
    ("compone", "componen", "composes", "compose", "música"),
    ("repite", "repiten", "repeats", "repeat", "ciencia"),
    ("observa", "observan", "observes", "observe", "ciencia"),
    ("descubre", "descubren", "discovers", "discover", "ciencia"),
    ("usa", "usan", "uses", "use", "ciencia"),
    ("demuestra", "demuestran", "proves", "prove", "ciencia"),
    ("estudia", "estudian", "studies", "study", "ciencia"),
    ("analiza", "analizan", "analyses", "analyse", "ciencia"),
    ("vende", "venden", "sells", "sell", "familia"),
    ("escribe", "escriben", "writes", "write", "familia"),
    ("abre", "abren", "opens", "open", "familia"),
    ("regala", "regalan", "gives away", "give away", "familia"),
    ("conduce", "conducen", "drives", "drive", "familia"),
    ("lee", "leen", "reads", "read", "familia"),
    ("mira", "miran", "looks at", "look at", "familia"),
))

PLACES: tuple[Noun, ...] = tuple(Noun(*row) for row in (
    ("estadio", "estadios", "m", "stadium", "stadiums", "deportes"),
    ("gimnasio", "gimnasios", "m", "gym", "gyms", "deportes"),
    ("piscina", "piscinas", "f", "pool", "pools", "deportes"),
    ("cocina", "cocinas", "f", "kitchen", "kitchens", "cocina"),
    ("restaurante", "restaurantes", "m", "restaurant", "restaurants", "cocina"),
    ("mercado", "mercados", "m", "market", "markets", "cocina"),
    ("aeropuerto", "aeropuertos", "m", "airport", "airports", "viajes"),
    ("estación", "estaciones", "f", "station", "stations", "viajes"),
    ("playa", "playas", "f", "beach", "beaches", "viajes"),
    ("teatro", "teatros", "m", "theatre", "theatres", "música"),
    ("auditorio", "auditorios", "m", "concert hall", "concert halls", "música"),
    ("escenario", "escenarios", "m", "stage", "stages", "música"),
    ("laboratorio", "laboratorios", "m", "laboratory", "laboratories", "ciencia"),
    ("universidad", "universidades", "f", "university", "universities", "ciencia"),
    ("biblioteca", "bibliotecas", "f", "library", "libraries", "ciencia"),
    ("parque", "parques", "m", "park", "parks", "familia"),
    ("plaza", "plazas", "f", "square", "squares", "familia"),
    ("palacio", "palacios", "m", "palace", "palaces", "familia"),
))

# Adjectives for people (character) and for states after "está muy".
PERSON_ADJECTIVES: tuple[Adjective, ...] = (
    _adj("alt", "tall"), _adj("baj", "short"), _adj("simpátic", "friendly"), _adj("famos", "famous"),
    _adj("nuev", "new"), _adj("viej", "old"), _adj("pequeñ", "little"), _adj("buen", "good"),
    _adj_inv("joven", "jóvenes", "young"), _adj_inv("amable", "amables", "kind"),
    Adjective("español", "española", "españoles", "españolas", "Spanish"),
    Adjective("trabajador", "trabajadora", "trabajadores", "trabajadoras", "hard-working"),
)
STATE_ADJECTIVES: tuple[Adjective, ...] = (
    _adj("content", "happy"), _adj("cansad", "tired"), _adj("ocupad", "busy"), _adj("nervios", "nervous"),
    _adj("orgullos", "proud"), _adj("tranquil", "calm"), _adj("preocupad", "worried"),
    _adj_inv("feliz", "felices", "happy"), _adj("emocionad", "excited"), _adj("aburrid", "bored"),
)
OBJECT_ADJECTIVES: tuple[Adjective, ...] = (
    _adj("roj", "red"), _adj("blanc", "white"), _adj("negr", "black"), _adj("amarill", "yellow"),
    _adj_inv("azul", "azules", "blue"), _adj_inv("verde", "verdes", "green"),
    _adj_inv("grande", "grandes", "big"), _adj("bonit", "pretty"), _adj("car", "expensive"),
    _adj("barat", "cheap"), _adj("antigu", "ancient"), _adj("modern", "modern"),
    _adj("ric", "tasty"), _adj("extrañ", "strange"),
)

COUNTRIES: tuple[Country, ...] = tuple(Country(*row) for row in (
    ("España", "Madrid", "español", "Spain", "Madrid", "Spanish"),
    ("Francia", "París", "francés", "France", "Paris", "French"),
    ("Italia", "Roma", "italiano", "Italy", "Rome", "Italian"),
    ("Alemania", "Berlín", "alemán", "Germany", "Berlin", "German"),
    ("Portugal", "Lisboa", "portugués", "Portugal", "Lisbon", "Portuguese"),
    ("Inglaterra", "Londres", "inglés", "England", "London", "English"),
    ("Japón", "Tokio", "japonés", "Japan", "Tokyo", "Japanese"),
    ("China", "Pekín", "chino", "China", "Beijing", "Chinese"),
    ("Rusia", "Moscú", "ruso", "Russia", "Moscow", "Russian"),
    ("Grecia", "Atenas", "griego", "Greece", "Athens", "Greek"),
    ("Suecia", "Estocolmo", "sueco", "Sweden", "Stockholm", "Swedish"),
    ("Polonia", "Varsovia", "polaco", "Poland", "Warsaw", "Polish"),
    ("Turquía", "Ankara", "turco", "Turkey", "Ankara", "Turkish"),
    ("Holanda", "Ámsterdam", "neerlandés", "Holland", "Amsterdam", "Dutch"),
    ("Noruega", "Oslo", "noruego", "Norway", "Oslo", "Norwegian"),
    ("Hungría", "Budapest", "húngaro", "Hungary", "Budapest", "Hungarian"),
    ("Marruecos", "Rabat", "árabe", "Morocco", "Rabat", "Arabic"),
    ("Corea", "Seúl", "coreano", "Korea", "Seoul", "Korean"),
))
# Cities that are not capitals (places for relative clauses and NER).
CITIES: tuple[str, ...] = ("Sevilla", "Valencia", "Bilbao", "Granada", "Barcelona", "Málaga",
                           "Zaragoza", "Salamanca", "Oviedo", "Córdoba")

FIRST_NAMES: tuple[tuple[str, str], ...] = (
    ("Lucía", "f"), ("Mateo", "m"), ("Sofía", "f"), ("Hugo", "m"), ("Martina", "f"), ("Pablo", "m"),
    ("Elena", "f"), ("Daniel", "m"), ("Carmen", "f"), ("Javier", "m"), ("Valeria", "f"),
    ("Diego", "m"), ("Paula", "f"), ("Álvaro", "m"), ("Inés", "f"), ("Sergio", "m"),
)
SURNAMES: tuple[str, ...] = ("García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez",
                             "Ruiz", "Díaz", "Moreno", "Muñoz", "Núñez", "Ibáñez", "Castaño")
ORGANIZATIONS: tuple[tuple[str, ...], ...] = (
    ("Universidad", "de", "Salamanca"), ("Museo", "del", "Prado"), ("Orquesta", "Nacional"),
    ("Hospital", "General"), ("Banco", "Central"), ("Real", "Academia", "Española"),
    ("Club", "Atlético"), ("Agencia", "Espacial"), ("Teatro", "Real"), ("Editorial", "Planeta"),
)
MISC_ENTITIES: tuple[tuple[str, ...], ...] = (
    ("Copa", "del", "Mundo"), ("Juegos", "Olímpicos"), ("Don", "Quijote"), ("Premio", "Nobel"),
    ("Tour", "de", "Francia"), ("Día", "de", "la", "Música"), ("Feria", "de", "Abril"),
    ("Las", "Meninas"),
)

# Long-range filler of the "Crecí en Francia ..., por eso hablo francés." frame.
STUDY_FIELDS: tuple[str, ...] = ("medicina", "historia", "química", "arte", "matemáticas", "derecho",
                                 "filosofía", "arquitectura")
INFINITIVES: tuple[str, ...] = ("cocinar", "nadar", "bailar", "cantar", "conducir", "pintar",
                                "programar", "navegar")
