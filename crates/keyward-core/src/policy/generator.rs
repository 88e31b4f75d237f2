//! Readable generated passwords: two capitalised simple words and two digits
//! (`TigerApple42`), easy for a child to read and type, with no confusable
//! characters. The full, configurable generator (R-POL-2) grows from this.

use crate::crypto::random::{Random, RandomError, random_below};

/// Short, concrete, unambiguous words a young reader knows.
const WORDS: &[&str] = &[
    "Apple", "Arrow", "Badge", "Baker", "Beach", "Berry", "Bison", "Blue", "Boat", "Brave",
    "Bread", "Brick", "Brush", "Cabin", "Cake", "Camel", "Candy", "Canoe", "Cat", "Chair", "Chalk",
    "Cloud", "Coast", "Comet", "Coral", "Crab", "Crane", "Crow", "Daisy", "Deer", "Desk", "Dog",
    "Dove", "Dragon", "Drum", "Duck", "Eagle", "Earth", "Fern", "Field", "Finch", "Fish", "Flag",
    "Flame", "Flute", "Fox", "Frog", "Fruit", "Gate", "Ghost", "Giant", "Goat", "Grape", "Grass",
    "Green", "Happy", "Harp", "Hawk", "Heart", "Hill", "Honey", "Horse", "House", "Jam", "Jelly",
    "Jet", "Juice", "Kite", "Koala", "Lake", "Lamp", "Leaf", "Lemon", "Lion", "Lucky", "Mango",
    "Maple", "Melon", "Mint", "Moon", "Moose", "Mouse", "Music", "Nest", "Night", "Ocean", "Olive",
    "Orange", "Otter", "Owl", "Panda", "Paper", "Park", "Peach", "Pear", "Penguin", "Pepper",
    "Piano", "Pizza", "Plane", "Plum", "Pond", "Pony", "Puppy", "Queen", "Quiet", "Rabbit", "Rain",
    "Raven", "Red", "River", "Robin", "Robot", "Rocket", "Rose", "Ruby", "Salmon", "Sand", "Seal",
    "Shark", "Sheep", "Ship", "Shoe", "Silver", "Snail", "Snow", "Sock", "Spoon", "Star", "Stone",
    "Storm", "Sugar", "Sun", "Swan", "Table", "Tiger", "Toast", "Tomato", "Tower", "Train", "Tree",
    "Truck", "Tulip", "Turtle", "Violet", "Wagon", "Water", "Whale", "Wind", "Wolf", "Yellow",
    "Zebra",
];

/// Generates `WordWordNN`. Always satisfies the `classic` policy.
pub fn generate_readable(rng: &dyn Random) -> Result<String, RandomError> {
    let count = u32::try_from(WORDS.len()).unwrap_or(u32::MAX);
    let pick = || -> Result<&'static str, RandomError> {
        let index = usize::try_from(random_below(rng, count)?).unwrap_or(0);
        Ok(WORDS.get(index).copied().unwrap_or("Star"))
    };
    let first = pick()?;
    let second = pick()?;
    // Digits 2–9 only: 0 and 1 are too easily read as O and l.
    let tens = random_below(rng, 8)? + 2;
    let units = random_below(rng, 8)? + 2;
    Ok(format!("{first}{second}{tens}{units}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::random::SeededRandom;
    use crate::policy::PasswordPolicy;
    use crate::types::Password;

    #[test]
    fn generated_passwords_satisfy_classic_and_avoid_confusables() {
        let rng = SeededRandom::new(5);
        for _ in 0..500 {
            let text = generate_readable(&rng).unwrap();
            let password = Password::new(text.clone()).unwrap();
            assert!(
                PasswordPolicy::classic().check(&password, None).is_empty(),
                "{text}"
            );
            assert!(!text.contains('0') && !text.contains('1'), "{text}");
        }
    }
}
