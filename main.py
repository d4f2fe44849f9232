from source_twilio.run import run

if __name__ == "__main__":
    run()
