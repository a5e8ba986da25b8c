fn main() {
    let text = "شماره عضويت,نام\r\n101,\"a, b\"\r\n102,c\r\n";
    let t = kanoon_import::read_table(text.as_bytes());
    println!("{t:#?}");
}
